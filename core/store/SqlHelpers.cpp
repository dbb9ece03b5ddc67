#include "store/SqlHelpers.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace emolens::sql {

QString dimensionsToJson(const QMap<QString, double> &dimensions)
{
    QJsonObject o;
    for (auto it = dimensions.begin(); it != dimensions.end(); ++it)
        o.insert(it.key(), it.value());
    return QString::fromUtf8(QJsonDocument(o).toJson(QJsonDocument::Compact));
}

QMap<QString, double> dimensionsFromJson(const QString &json)
{
    QMap<QString, double> out;
    const QJsonObject o = QJsonDocument::fromJson(json.toUtf8()).object();
    for (auto it = o.begin(); it != o.end(); ++it)
        out.insert(it.key(), it.value().toDouble());
    return out;
}

QString schemaClassesToJson(const QStringList &classes)
{
    return QString::fromUtf8(
        QJsonDocument(QJsonArray::fromStringList(classes)).toJson(QJsonDocument::Compact));
}

QStringList schemaClassesFromJson(const QString &json)
{
    QStringList out;
    for (const QJsonValue &v : QJsonDocument::fromJson(json.toUtf8()).array())
        out << v.toString();
    return out;
}

QString schemaScalesToJson(const QList<DimensionScale> &scales)
{
    QJsonArray a;
    for (const DimensionScale &s : scales)
        a.append(QJsonObject{{QStringLiteral("name"), s.name},
                             {QStringLiteral("min"), s.minimum},
                             {QStringLiteral("max"), s.maximum}});
    return QString::fromUtf8(QJsonDocument(a).toJson(QJsonDocument::Compact));
}

QList<DimensionScale> schemaScalesFromJson(const QString &json)
{
    QList<DimensionScale> out;
    for (const QJsonValue &v : QJsonDocument::fromJson(json.toUtf8()).array()) {
        const QJsonObject o = v.toObject();
        out.append({o.value(QStringLiteral("name")).toString(),
                    o.value(QStringLiteral("min")).toDouble(),
                    o.value(QStringLiteral("max")).toDouble()});
    }
    return out;
}

} // namespace emolens::sql
