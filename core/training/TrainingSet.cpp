#include "training/TrainingSet.h"

#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "training/Recipes.h"

#include <QHash>

namespace emolens {

namespace {

// The corpus's own split of a clip, as its importer recorded it (MSP-Podcast: split_set).
QString partitionOf(const UtteranceRecord &u)
{
    for (const char *key : {"split_set", "partition", "split"})
        if (const QString value = u.metadata.value(QLatin1String(key)); !value.isEmpty())
            return value;
    return QString();
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

    out->source = std::make_unique<CacheClipSource>(request.cacheRoot, out->encoder.identity,
                                                    out->encoder.layerCount,
                                                    out->encoder.hiddenSize, out->acousticInputs);
    for (const UtteranceRecord &u : std::as_const(utterances)) {
        const ShownLabel label = shown.value(u.id);
        TrainerClip clip;
        clip.classIndex = label.inLabelSet ? int(out->classes.indexOf(label.category)) : -1;
        // Seed 001's auxiliary task reads the speaker's gender where the corpus gives it.
        const Gender gender = speakerGender.value(u.speakerId, Gender::Unknown);
        clip.gender = gender == Gender::Female ? 0 : gender == Gender::Male ? 1 : -1;
        if (!out->source->add(u.contentHash, clip)) {
            ++out->missingFeatures;
            continue;
        }
        if (clip.classIndex < 0)
            ++out->withoutCategory;
        out->clips.append({u.id, speakerKey.value(u.speakerId), speakerGender.value(u.speakerId),
                           clip.classIndex, u.sessionKey, partitionOf(u)});
        out->contentHashes.append(u.contentHash);
    }
    if (out->clips.isEmpty())
        return Status::failure(
            QStringLiteral("%1: no clip has cached %2 features; extract them first "
                           "(Features > Extract Features, or emolens-cli extract --encoder %3)")
                .arg(db.filePath(), out->encoder.name, out->encoder.source));
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
