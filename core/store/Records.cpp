#include "store/Records.h"

namespace emolens {

QString genderName(Gender gender)
{
    switch (gender) {
    case Gender::Female:
        return QStringLiteral("female");
    case Gender::Male:
        return QStringLiteral("male");
    case Gender::Unknown:
        break;
    }
    return QString();
}

Gender genderFromName(const QString &name)
{
    const QString n = name.trimmed().toLower();
    if (n == u"f" || n == u"female" || n == u"w" || n == u"woman" || n == u"women")
        return Gender::Female;
    if (n == u"m" || n == u"male" || n == u"man" || n == u"men")
        return Gender::Male;
    return Gender::Unknown;
}

QString styleName(SpeakingStyle style)
{
    switch (style) {
    case SpeakingStyle::Scripted:
        return QStringLiteral("scripted");
    case SpeakingStyle::Improvised:
        return QStringLiteral("improvised");
    case SpeakingStyle::Unknown:
        break;
    }
    return QString();
}

SpeakingStyle styleFromName(const QString &name)
{
    const QString n = name.trimmed().toLower();
    if (n.startsWith(u"script"))
        return SpeakingStyle::Scripted;
    if (n.startsWith(u"impro"))
        return SpeakingStyle::Improvised;
    return SpeakingStyle::Unknown;
}

bool LabelValue::operator==(const LabelValue &o) const
{
    const bool bothNoConfidence = std::isnan(confidence) && std::isnan(o.confidence);
    return category == o.category && dimensions == o.dimensions && notes == o.notes &&
           (bothNoConfidence || confidence == o.confidence);
}

QString annotatorKindName(AnnotatorKind kind)
{
    return kind == AnnotatorKind::Corpus ? QStringLiteral("corpus") : QStringLiteral("person");
}

AnnotatorKind annotatorKindFromName(const QString &name)
{
    return name == QLatin1String("corpus") ? AnnotatorKind::Corpus : AnnotatorKind::Person;
}

QString labelActionName(LabelAction action)
{
    switch (action) {
    case LabelAction::Edit:
        return QStringLiteral("edit");
    case LabelAction::Undo:
        return QStringLiteral("undo");
    case LabelAction::Redo:
        return QStringLiteral("redo");
    case LabelAction::Import:
        return QStringLiteral("import");
    case LabelAction::Unrecorded:
        break;
    }
    return QString();
}

LabelAction labelActionFromName(const QString &name)
{
    for (LabelAction a :
         {LabelAction::Edit, LabelAction::Undo, LabelAction::Redo, LabelAction::Import})
        if (name == labelActionName(a))
            return a;
    return LabelAction::Unrecorded;
}

QString labelOriginName(LabelOrigin origin)
{
    switch (origin) {
    case LabelOrigin::Person:
        return QStringLiteral("person");
    case LabelOrigin::Corpus:
        return QStringLiteral("corpus");
    case LabelOrigin::None:
        break;
    }
    return QString();
}

bool ShownLabel::disagreement() const
{
    QString first;
    for (const QString &category : peopleCategories) {
        if (first.isEmpty())
            first = category;
        else if (category != first)
            return true;
    }
    return false;
}

} // namespace emolens
