#include "training/TrainingSet.h"

#include "features/FeatureCache.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "training/Recipes.h"

#include <QCryptographicHash>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <algorithm>

namespace emolens {

TrainingSetRequest TrainingSetRequest::of(const QString &databasePath,
                                          const QString &cacheDirectory, const QString &encoder,
                                          int acousticInputs)
{
    TrainingSetRequest request;
    request.cacheRoot =
        cacheDirectory.isEmpty() ? FeatureCache::defaultRootFor(databasePath) : cacheDirectory;
    request.encoder = encoder;
    request.acousticInputs = acousticInputs;
    return request;
}

namespace {

// The corpus's own split of a clip, as its importer recorded it (MSP-Podcast: split_set).
QString partitionOf(const UtteranceRecord &u)
{
    for (const char *key : {"split_set", "partition", "split"})
        if (const QString value = u.metadata.value(QLatin1String(key)); !value.isEmpty())
            return value;
    return QString();
}

// A transcript as CTC targets read it: lower case; letters, digits and apostrophes; runs of
// anything else become one space; no space at either end.
QString normalisedTranscript(const QString &text)
{
    QString out;
    bool gap = false;
    for (const QChar c : text.toLower()) {
        if (c.isLetterOrNumber() || c == QLatin1Char('\'')) {
            if (gap && !out.isEmpty())
                out += QLatin1Char(' ');
            gap = false;
            out += c;
        } else {
            gap = true;
        }
    }
    return out;
}

} // namespace

Status TrainingSet::load(Database &db, const TrainingSetRequest &request, TrainingSet *out)
{
    *out = TrainingSet();
    FeatureRepository features(db);
    bool found = false;
    for (const EncoderRecord &e : features.encoders())
        if (e.source == request.encoder || e.name == request.encoder) {
            out->encoder = e; // the newest of several with the same folder wins
            found = true;
        }
    if (!found)
        return Status::failure(
            QStringLiteral("%1: no features of the encoder \"%2\" in this workspace; extract "
                           "them first (Features > Extract Features, or emolens-cli extract)")
                .arg(db.filePath(), request.encoder));
    out->acousticInputs = request.acousticInputs < 0 ? out->encoder.source == QLatin1String("fbank")
                                                     : request.acousticInputs > 0;

    CorpusRepository corpora(db);
    LabelRepository labels(db);
    QList<CorpusRecord> corpusList;
    if (auto st = corpora.corpora(&corpusList); !st)
        return st;
    QHash<qint64, QString> speakerKey;
    QHash<qint64, Gender> speakerGender;
    for (const CorpusRecord &c : std::as_const(corpusList)) {
        if (request.corpusId != 0 && c.id != request.corpusId)
            continue;
        if (const auto schema = labels.schema(c.labelSchemaId))
            for (const QString &cls : schema->classes)
                if (!out->classes.contains(cls))
                    out->classes.append(cls);
        for (const SpeakerRecord &s : corpora.speakers(c.id)) {
            // Speakers are per corpus: the same code in two corpora is two people.
            speakerKey.insert(s.id, QStringLiteral("%1/%2").arg(c.name, s.code));
            speakerGender.insert(s.id, s.gender);
        }
    }
    QList<UtteranceRecord> utterances;
    if (auto st = corpora.utterances(request.corpusId, &utterances); !st)
        return st;
    QHash<qint64, ShownLabel> shown;
    if (auto st = labels.shownLabels(request.corpusId, &shown); !st)
        return st;
    out->labelRule = request.labelRule;
    QHash<qint64, QString> ruled;
    QHash<qint64, QList<float>> shares; // the soft rule's clips people disagree on
    if (auto st = trainingCategories(db, request.labelRule, request.corpusId, out->classes, &ruled,
                                     &shares);
        !st)
        return st;

    out->source = std::make_unique<CacheClipSource>(request.cacheRoot, out->encoder.identity,
                                                    out->encoder.layerCount,
                                                    out->encoder.hiddenSize, out->acousticInputs);
    // The character vocabulary first, so a clip's ids do not depend on the clips after it.
    QHash<qint64, QString> transcripts;
    {
        QList<QChar> seen;
        for (const UtteranceRecord &u : std::as_const(utterances)) {
            const QString text = normalisedTranscript(u.transcript);
            if (text.isEmpty())
                continue;
            transcripts.insert(u.id, text);
            for (const QChar c : text)
                if (!seen.contains(c))
                    seen.append(c);
        }
        std::sort(seen.begin(), seen.end());
        for (const QChar c : std::as_const(seen))
            out->characters += c;
    }
    QHash<QString, int> speakerIndex;
    bool scripted = false, improvised = false;
    for (const UtteranceRecord &u : std::as_const(utterances)) {
        const ShownLabel label = shown.value(u.id);
        TrainerClip clip;
        clip.classIndex = label.inLabelSet ? int(out->classes.indexOf(label.category)) : -1;
        bool byRule = false;
        if (const auto it = ruled.constFind(u.id); it != ruled.constEnd()) {
            const int ruledIndex = int(out->classes.indexOf(*it));
            byRule = ruledIndex != clip.classIndex;
            clip.classIndex = ruledIndex;
        }
        if (const auto it = shares.constFind(u.id); it != shares.constEnd()) {
            clip.classTargets.assign(it->cbegin(), it->cend());
            byRule = true;
        }
        // Seed 001's auxiliary task reads the speaker's gender where the corpus gives it.
        const Gender gender = speakerGender.value(u.speakerId, Gender::Unknown);
        clip.gender = gender == Gender::Female ? 0 : gender == Gender::Male ? 1 : -1;
        // Seed 003's other auxiliary tasks: the speaker, the speaking style, the transcript.
        const QString speaker = speakerKey.value(u.speakerId);
        if (!speaker.isEmpty()) {
            auto it = speakerIndex.constFind(speaker);
            clip.speaker = it != speakerIndex.constEnd() ? *it : int(speakerIndex.size());
        }
        clip.style = u.style == SpeakingStyle::Scripted     ? 0
                     : u.style == SpeakingStyle::Improvised ? 1
                                                            : -1;
        for (const QChar c : transcripts.value(u.id))
            clip.characters.push_back(int32_t(out->characters.indexOf(c)) + 1);
        if (!out->source->add(u.contentHash, clip)) {
            ++out->missingFeatures;
            continue;
        }
        if (!speaker.isEmpty() && !speakerIndex.contains(speaker))
            speakerIndex.insert(speaker, clip.speaker);
        if (clip.classIndex < 0)
            ++out->withoutCategory;
        out->ruledClips += byRule ? 1 : 0;
        out->withGender += clip.gender >= 0 ? 1 : 0;
        out->withStyle += clip.style >= 0 ? 1 : 0;
        out->withTranscript += clip.characters.empty() ? 0 : 1;
        scripted = scripted || clip.style == 0;
        improvised = improvised || clip.style == 1;
        out->clips.append({u.id, speakerKey.value(u.speakerId), speakerGender.value(u.speakerId),
                           clip.classIndex, u.sessionKey, partitionOf(u)});
        out->contentHashes.append(u.contentHash);
    }
    out->speakerCount = int(speakerIndex.size());
    out->bothStyles = scripted && improvised;
    if (out->clips.isEmpty())
        return Status::failure(
            QStringLiteral("%1: no clip has cached %2 features; extract them first "
                           "(Features > Extract Features, or emolens-cli extract --encoder %3)")
                .arg(db.filePath(), out->encoder.name, out->encoder.source));
    if (!request.speedRates.isEmpty())
        if (auto st = out->source->addSpeedVariants(request.speedRates); !st)
            return Status::failure(
                QStringLiteral("%1: speed perturbation: %2; extract the copies first "
                               "(emolens-cli extract --db %1 --encoder %3 --speed-perturb)")
                    .arg(db.filePath(), st.error(), out->encoder.source));
    return Status::success();
}

std::vector<std::size_t> TrainingSet::indexesOf(const QList<qint64> &utteranceIds) const
{
    QHash<qint64, std::size_t> position;
    for (qsizetype i = 0; i < clips.size(); ++i)
        position.insert(clips[i].utteranceId, std::size_t(i));
    std::vector<std::size_t> out;
    for (qint64 id : utteranceIds)
        if (auto it = position.constFind(id); it != position.constEnd())
            out.push_back(*it);
    return out;
}

Status TrainingSet::fitAuxiliaryTasks(TrainerOptions *options, const QStringList &asked,
                                      QStringList *notes) const
{
    AdapterOptions &a = options->adapter;
    const QStringList known{QStringLiteral("gender"), QStringLiteral("speaker"),
                            QStringLiteral("style"), QStringLiteral("characters")};
    for (const QString &task : asked)
        if (!known.contains(task))
            return Status::failure(QStringLiteral("unknown auxiliary task \"%1\" (known: %2)")
                                       .arg(task, known.join(QStringLiteral(", "))));
    if (a.pooling != AdapterPooling::CoAttention)
        return asked.isEmpty() ? Status::success()
                               : Status::failure(QStringLiteral(
                                     "this recipe has no auxiliary tasks (ari-coattention has)"));
    a.genderClasses = withGender > 0 ? 2 : 0;
    if (a.genderClasses == 0)
        *notes << QStringLiteral("the gender task is dropped: no clip's speaker has a gender");
    a.speakerClasses = speakerCount >= 2 ? speakerCount : 0;
    if (a.speakerClasses == 0)
        *notes << QStringLiteral("the speaker task is dropped: the clips have %1 speaker%2")
                      .arg(speakerCount)
                      .arg(speakerCount == 1 ? QString() : QStringLiteral("s"));
    a.styleClasses = bothStyles ? 2 : 0;
    if (a.styleClasses == 0)
        *notes << (withStyle == 0 ? QStringLiteral("the speaking-style task is dropped: no clip "
                                                   "has a speaking style (scripted or improvised)")
                                  : QStringLiteral("the speaking-style task is dropped: every "
                                                   "clip with a style has the same one"));
    a.characterClasses = withTranscript > 0 ? int(characters.size()) + 1 : 0;
    if (a.characterClasses == 0)
        *notes << QStringLiteral("the character (CTC) task is dropped: no clip has a transcript");
    // Tasks left out on request.
    int *classes[] = {&a.genderClasses, &a.speakerClasses, &a.styleClasses, &a.characterClasses};
    for (int k = 0; k < 4; ++k)
        if (!asked.isEmpty() && !asked.contains(known[k]) && *classes[k] > 0) {
            *classes[k] = 0;
            *notes << QStringLiteral("the %1 task is left out, as asked").arg(known[k]);
        }
    if (a.genderClasses + a.speakerClasses + a.styleClasses + a.characterClasses == 0)
        return Status::failure(
            QStringLiteral("the co-attention adapter needs at least one auxiliary task, and the "
                           "clips have none of the metadata they learn from (speakers' gender, "
                           "speakers, speaking style, transcripts)"));
    return Status::success();
}

QString TrainingSet::labelSnapshot() const
{
    QJsonObject counts;
    QCryptographicHash hash(QCryptographicHash::Sha256);
    int labeled = 0;
    for (const FoldClip &c : clips) {
        if (c.classIndex < 0)
            continue;
        ++labeled;
        const QString name = classes.value(c.classIndex);
        counts.insert(name, counts.value(name).toInt() + 1);
        hash.addData(QStringLiteral("%1:%2;").arg(c.utteranceId).arg(name).toUtf8());
    }
    return QString::fromUtf8(
        QJsonDocument(
            QJsonObject{{QStringLiteral("classes"), QJsonArray::fromStringList(classes)},
                        {QStringLiteral("labeled_clips"), labeled},
                        {QStringLiteral("counts"), counts},
                        {QStringLiteral("hash"), QString::fromLatin1(hash.result().toHex())}})
            .toJson(QJsonDocument::Compact));
}

QString TrainingSet::labelRuleNote() const
{
    if (labelRule.kind == LabelRule::Newest)
        return QString();
    if (labelRule.kind == LabelRule::Soft)
        return QStringLiteral("label rule soft: %1 on the share of their annotators' votes (the "
                              "majority's category is what validation and the scores compare "
                              "with)")
            .arg(ruledClips == 1
                     ? QStringLiteral("1 clip people disagree on trains")
                     : QStringLiteral("%1 clips people disagree on train").arg(ruledClips));
    return QStringLiteral("label rule %1: %2 on another category than the one the views show")
        .arg(labelRule.name(), ruledClips == 1 ? QStringLiteral("1 clip trains")
                                               : QStringLiteral("%1 clips train").arg(ruledClips));
}

qint64 TrainingSet::labeledFrames() const
{
    qint64 frames = 0;
    for (qsizetype i = 0; i < clips.size(); ++i)
        if (clips[i].classIndex >= 0)
            frames += source->clips()[std::size_t(i)].frames;
    return frames;
}

QString TrainingSet::resolveRecipe(const QString &asked, const QString &device) const
{
    return asked.isEmpty() || asked == QLatin1String("default")
               ? defaultRecipeFor(labeledFrames(), device)
               : asked;
}

} // namespace emolens
