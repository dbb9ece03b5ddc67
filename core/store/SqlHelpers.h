#pragma once
// Small helpers shared by the repositories: running prepared statements with errors as
// Status, timestamps and JSON columns. Internal to core/store.

#include "common/Status.h"
#include "store/Records.h"

#include <QDateTime>
#include <QSqlError>
#include <QSqlQuery>
#include <QString>
#include <QVariant>
#include <initializer_list>

namespace emolens::sql {

// A null QString binds as SQL NULL, which the NOT NULL DEFAULT '' text columns reject:
// bind it as the empty string it means. A null QVariant of type QString
// (QVariant(QMetaType(QMetaType::QString))) stays SQL NULL, for the nullable text columns.
inline QVariant bindable(const QVariant &v)
{
    if (v.typeId() == QMetaType::QString && !v.isNull() && v.toString().isNull())
        return QVariant(QStringLiteral(""));
    return v;
}

// Prepares and runs `text` with positional bindings.
inline Status run(QSqlQuery &q, const QString &text, std::initializer_list<QVariant> values = {})
{
    if (!q.prepare(text))
        return Status::failure(q.lastError().text());
    for (const QVariant &v : values)
        q.addBindValue(bindable(v));
    if (!q.exec())
        return Status::failure(q.lastError().text());
    return Status::success();
}

// Re-runs an already prepared statement with new bindings.
inline Status rerun(QSqlQuery &q, std::initializer_list<QVariant> values)
{
    int i = 0;
    for (const QVariant &v : values)
        q.bindValue(i++, bindable(v));
    if (!q.exec())
        return Status::failure(q.lastError().text());
    return Status::success();
}

inline QString nowUtc()
{
    return QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
}

inline QDateTime timeFrom(const QVariant &v)
{
    QDateTime t = QDateTime::fromString(v.toString(), Qt::ISODateWithMs);
    t.setTimeSpec(Qt::UTC);
    return t;
}

QString dimensionsToJson(const QMap<QString, double> &dimensions);
QMap<QString, double> dimensionsFromJson(const QString &json);
QString schemaClassesToJson(const QStringList &classes);
QStringList schemaClassesFromJson(const QString &json);
QString schemaScalesToJson(const QList<DimensionScale> &scales);
QList<DimensionScale> schemaScalesFromJson(const QString &json);

} // namespace emolens::sql
