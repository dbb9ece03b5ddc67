#include "corpus/formats/EmotionNames.h"

#include <QHash>

namespace emolens::emotion {

QStringList fourClasses()
{
    return {QStringLiteral("angry"), QStringLiteral("happy"), QStringLiteral("neutral"),
            QStringLiteral("sad")};
}

QString mapped(const QString &className, const QString &mapping)
{
    if (mapping == fourClassMapping())
        return fourClasses().contains(className) ? className : QString();
    return className;
}

LabelSchema schemaFor(const QString &formatName, const QString &mapping,
                      const QStringList &classNames, const QList<DimensionScale> &scales)
{
    LabelSchema schema;
    schema.name = formatName + QLatin1Char('-') + mapping;
    for (const QString &name : classNames) {
        const QString kept = mapped(name, mapping);
        if (!kept.isEmpty() && !schema.classes.contains(kept))
            schema.classes.append(kept);
    }
    schema.classes.sort();
    schema.scales = scales;
    return schema;
}

QString fromSpelling(const QString &spelling)
{
    static const QHash<QString, QString> names = [] {
        QHash<QString, QString> h;
        auto add = [&h](const QString &name, std::initializer_list<const char *> spellings) {
            h.insert(name, name);
            for (const char *s : spellings)
                h.insert(QString::fromLatin1(s), name);
        };
        add(QStringLiteral("angry"), {"anger", "ang", "angry", "mad"});
        add(QStringLiteral("happy"), {"happiness", "hap", "joy", "happy", "glad"});
        add(QStringLiteral("neutral"), {"neu", "neutral", "neutrality"});
        add(QStringLiteral("sad"), {"sadness", "sad", "sa"});
        add(QStringLiteral("fear"), {"fear", "fearful", "fea", "afraid", "anxiety"});
        add(QStringLiteral("disgust"), {"disgust", "disgusted", "dis"});
        add(QStringLiteral("surprise"),
            {"surprise", "surprised", "sur", "ps", "pleasant_surprise", "pleasant_surprised"});
        add(QStringLiteral("calm"), {"calm"});
        add(QStringLiteral("boredom"), {"boredom", "bored"});
        add(QStringLiteral("contempt"), {"contempt"});
        return h;
    }();
    return names.value(spelling.trimmed().toLower());
}

} // namespace emolens::emotion
