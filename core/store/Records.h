#pragma once
// Plain value types that the store reads and writes. No behaviour, no Qt SQL.

#include <QDateTime>
#include <QList>
#include <QMap>
#include <QString>
#include <QStringList>
#include <cmath>
#include <vector>

namespace emolens {

enum class Gender { Unknown, Female, Male };
enum class SpeakingStyle { Unknown, Scripted, Improvised };

QString genderName(Gender gender);          // "female", "male", ""
Gender genderFromName(const QString &name); // accepts f/female/w/woman/m/male/man, any case
QString styleName(SpeakingStyle style);     // "scripted", "improvised", ""
SpeakingStyle styleFromName(const QString &name);

struct DimensionScale
{
    QString name;       // e.g. "arousal"
    double minimum = 1; // e.g. 1
    double maximum = 5; // e.g. 5
};

// What a label schema offers the annotator: categorical classes (keys 1..9 in this order)
// and optional dimensional scales.
struct LabelSchema
{
    qint64 id = 0;
    QString name; // e.g. "iemocap-4class"
    QStringList classes;
    QList<DimensionScale> scales;
};

struct CorpusRecord
{
    qint64 id = 0;
    QString name;
    QString rootPath; // absolute
    QString format;   // importer name, e.g. "iemocap"
    QString labelMapping;
    qint64 labelSchemaId = 0;
    QDateTime importedAt;
};

struct SpeakerRecord
{
    qint64 id = 0;
    qint64 corpusId = 0;
    QString code; // the corpus's own speaker id
    Gender gender = Gender::Unknown;
};

struct UtteranceRecord
{
    qint64 id = 0;
    qint64 corpusId = 0;
    qint64 speakerId = 0;
    QString key;  // corpus-unique utterance id, e.g. "Ses01F_impro01_F000"
    QString path; // absolute path of the audio file
    double durationSeconds = 0;
    int sampleRate = 0;
    int channels = 0;
    qint64 frames = 0;
    qint64 fileSizeBytes = 0;
    QString sessionKey; // fold key for speaker-independent evaluation
    SpeakingStyle style = SpeakingStyle::Unknown;
    QString transcript;
    QString contentHash;             // hex digest of the file bytes
    QString originalLabel;           // the corpus's own label, before any mapping
    QMap<QString, QString> metadata; // any extra fields the corpus has
};

// One label value. A missing dimension is absent from the map; confidence is NaN when unset.
struct LabelValue
{
    QString category; // empty = no category (e.g. cleared)
    QMap<QString, double> dimensions;
    double confidence = std::nan("");
    QString notes;

    static LabelValue ofCategory(const QString &name)
    {
        LabelValue v;
        v.category = name;
        return v;
    }
    bool isEmpty() const { return category.isEmpty() && dimensions.isEmpty(); }
    bool operator==(const LabelValue &o) const;
    bool operator!=(const LabelValue &o) const { return !(*this == o); }
};

// Who gave a label: a person (signed in under their name) or a corpus's own annotation,
// imported with it (stored under the annotator "corpus:<corpus name>").
enum class AnnotatorKind { Person, Corpus };
QString annotatorKindName(AnnotatorKind kind);            // "person", "corpus"
AnnotatorKind annotatorKindFromName(const QString &name); // anything but "corpus": Person

// How a history row came about.
enum class LabelAction { Unrecorded, Edit, Undo, Redo, Import };
QString labelActionName(LabelAction action); // "edit", "undo", "redo", "import", ""
LabelAction labelActionFromName(const QString &name);

// One row of label history. Rows are never updated or deleted: a change is a new row that
// holds the annotator's whole judgement after the change, so the newest row of an annotator
// (in any label set) is their current judgement of the clip.
struct LabelRecord
{
    qint64 id = 0;
    qint64 utteranceId = 0;
    qint64 schemaId = 0; // the label set the label was given in
    qint64 annotatorId = 0;
    QString annotatorName;
    AnnotatorKind annotatorKind = AnnotatorKind::Person;
    QDateTime createdAt; // UTC
    LabelValue value;
    LabelAction action = LabelAction::Unrecorded;
    QStringList changed; // the parts this row changed: "category", "confidence", "notes", or a
                         // dimension's name; empty for the first row or when nothing changed
};

// One time-continuous trace: an annotator's value of one dimension over a clip, from -1 to 1,
// sampled every 1 / rateHz seconds of media time from startSeconds; NaN where nothing was
// traced. Append-only like labels: an annotator's newest trace of a dimension is current.
struct TraceRecord
{
    qint64 id = 0;
    qint64 utteranceId = 0;
    qint64 annotatorId = 0;
    QString annotatorName;
    QString dimension; // e.g. "arousal"
    double rateHz = 25;
    double startSeconds = 0;
    std::vector<float> samples;
    QString input;       // "mouse", "wheel", "keyboard", "import"
    QDateTime createdAt; // UTC

    double endSeconds() const { return startSeconds + double(samples.size()) / rateHz; }
};

// Where the label a clip shows comes from (see LabelRepository: "the label shown").
enum class LabelOrigin { None, Person, Corpus };
QString labelOriginName(LabelOrigin origin); // "person", "corpus", ""

// The label a clip shows: in the table, the labeling panel, counts, filters and exports.
struct ShownLabel
{
    qint64 utteranceId = 0;
    qint64 labelId = 0; // the row the category comes from; 0 when there is none
    QString category;   // empty when nobody gave one
    QString givenBy;    // the annotator's name
    LabelOrigin origin = LabelOrigin::None;
    // False when the category is not a class of the corpus's current label set (a person's
    // label given under another mapping): shown as it is, and flagged.
    bool inLabelSet = true;
    // Per scale: the newest value among people's judgements, else the corpus's.
    QMap<QString, double> dimensions;
    // Each person's current category (non-empty ones), by annotator name.
    QMap<QString, QString> peopleCategories;

    bool hasPersonCategory() const { return !peopleCategories.isEmpty(); }
    // People gave different categories.
    bool disagreement() const;
};

// One line of the utterance table: an utterance with its speaker and current label.
struct UtteranceRow
{
    qint64 id = 0;
    qint64 corpusId = 0;
    QString corpusName;
    QString key;
    QString path;
    QString speakerCode;
    Gender gender = Gender::Unknown;
    double durationSeconds = 0;
    QString label;     // the category shown (see ShownLabel)
    QString labeledBy; // who gave it
    LabelOrigin labelOrigin = LabelOrigin::None;
    bool labelInSet = true;      // see ShownLabel::inLabelSet
    QStringList labeledByPeople; // the people whose judgement has a category
    bool disagreement = false;   // people gave different categories
};

} // namespace emolens
