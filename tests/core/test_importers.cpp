// Corpus importers: every layout of the generated test corpora is recognised and scanned into
// the right utterances, speakers, genders, labels and metadata; a full import writes them to
// a real workspace file, a re-import adds nothing, and broken files and lines are reported
// with their path, line and reason while the good ones are imported.

#include "TestPaths.h"
#include "corpus/CorpusFormat.h"
#include "corpus/CorpusImporter.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QDir>
#include <QFile>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace emolens;

namespace {

using LabelCounts = QMap<QString, int>;
using FileContents = QMap<QString, QByteArray>; // relative path -> content

struct ScanSummary
{
    int items = 0;
    int speakers = 0;
    int femaleSpeakers = 0;
    int maleSpeakers = 0;
    QMap<QString, int> labels;
};

ScanSummary summarise(const CorpusScan &scan)
{
    ScanSummary s;
    s.items = int(scan.items.size());
    QSet<QString> speakers, female, male;
    for (const ImportItem &item : scan.items) {
        speakers.insert(item.speakerCode);
        if (item.gender == Gender::Female)
            female.insert(item.speakerCode);
        if (item.gender == Gender::Male)
            male.insert(item.speakerCode);
        if (!item.label.category.isEmpty())
            ++s.labels[item.label.category];
    }
    s.speakers = int(speakers.size());
    s.femaleSpeakers = int(female.size());
    s.maleSpeakers = int(male.size());
    return s;
}

CorpusScan scanLayout(const QString &layout, const QString &mapping = QString())
{
    const QString root = test::corpus(layout);
    const auto format = detectCorpusFormat(root);
    if (!format)
        return {};
    SilentProgress progress;
    return format->scan(root, mapping.isEmpty() ? format->labelMappings().first() : mapping,
                        progress);
}

const ImportItem *findItem(const CorpusScan &scan, const QString &key)
{
    for (const ImportItem &item : scan.items)
        if (item.utterance.key == key)
            return &item;
    return nullptr;
}

QMap<QString, int> fourEach(int count)
{
    return {{QStringLiteral("angry"), count},
            {QStringLiteral("happy"), count},
            {QStringLiteral("neutral"), count},
            {QStringLiteral("sad"), count}};
}

void writeFile(const QString &path, const QByteArray &bytes)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QFile f(path);
    QVERIFY2(f.open(QIODevice::WriteOnly), qPrintable(path));
    f.write(bytes);
}

// A real clip from the generated corpora, copied to `path`.
void copyClip(const QString &path)
{
    QDir().mkpath(QFileInfo(path).absolutePath());
    QVERIFY(QFile::copy(test::corpus(QStringLiteral("bad/good_01.wav")), path));
}

bool hasProblem(const QList<ImportProblem> &problems, const QString &pathEnd, int line,
                const QString &reasonPart)
{
    for (const ImportProblem &p : problems)
        if (p.path.endsWith(pathEnd) && (line < 0 || p.line == line) &&
            p.reason.contains(reasonPart, Qt::CaseInsensitive))
            return true;
    return false;
}

QString describe(const QList<ImportProblem> &problems)
{
    QStringList lines;
    for (const ImportProblem &p : problems)
        lines << QStringLiteral("%1:%2: %3").arg(p.path).arg(p.line).arg(p.reason);
    return lines.join(QLatin1Char('\n'));
}

} // namespace

class TestImporters : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY2(QFileInfo::exists(test::corpus(QStringLiteral("iemocap"))),
                 "the generated corpora are missing; run the make_test_corpora test first");
    }

    void detectsTheLayout_data()
    {
        QTest::addColumn<QString>("layout");
        QTest::addColumn<QString>("format");
        QTest::newRow("iemocap") << "iemocap"
                                 << "iemocap";
        QTest::newRow("ravdess") << "ravdess"
                                 << "ravdess";
        QTest::newRow("cremad") << "cremad"
                                << "cremad";
        QTest::newRow("tess") << "tess"
                              << "tess";
        QTest::newRow("emodb") << "emodb"
                               << "emodb";
        QTest::newRow("savee") << "savee"
                               << "savee";
        QTest::newRow("msp-podcast") << "msp-podcast"
                                     << "msp-podcast";
        QTest::newRow("generic-csv") << "generic-csv"
                                     << "generic";
        QTest::newRow("generic-tsv") << "generic-tsv"
                                     << "generic";
        QTest::newRow("generic-folders") << "generic-folders"
                                         << "generic";
        QTest::newRow("formats") << "formats"
                                 << "generic";
        QTest::newRow("bad") << "bad"
                             << "generic";
        QTest::newRow("bad-named") << "bad-named"
                                   << "ravdess";
    }
    void detectsTheLayout()
    {
        QFETCH(QString, layout);
        QFETCH(QString, format);
        const auto detected = detectCorpusFormat(test::corpus(layout));
        QVERIFY(detected);
        QCOMPARE(detected->name(), format);
        QCOMPARE(corpusFormat(format), detected);
        QVERIFY(detected->labelMappings().contains(QStringLiteral("original")));
    }

    void emptyFolderIsNoCorpus()
    {
        QTemporaryDir dir;
        QVERIFY(!detectCorpusFormat(dir.path()));
    }

    void scansEveryLayout_data()
    {
        QTest::addColumn<QString>("layout");
        QTest::addColumn<QString>("mapping");
        QTest::addColumn<int>("items");
        QTest::addColumn<int>("speakers");
        QTest::addColumn<int>("femaleSpeakers");
        QTest::addColumn<int>("maleSpeakers");
        QTest::addColumn<QMap<QString, int>>("labels");
        QTest::addColumn<QStringList>("classes");
        const QStringList four = {"angry", "happy", "neutral", "sad"};
        // IEMOCAP: exc merged into happy, one fru (angry turn) and one xxx (neutral turn) dropped.
        QTest::newRow("iemocap 4class")
            << "iemocap"
            << "4class" << 48 << 4 << 2 << 2
            << QMap<QString, int>{{"angry", 11}, {"happy", 12}, {"neutral", 11}, {"sad", 12}}
            << four;
        QTest::newRow("iemocap original")
            << "iemocap"
            << "original" << 48 << 4 << 2 << 2
            << QMap<QString, int>{{"ang", 11}, {"exc", 4},  {"fru", 1},
                                  {"hap", 8},  {"neu", 11}, {"sad", 12}}
            << QStringList{"ang", "dis", "exc", "fea", "fru", "hap", "neu", "oth", "sad", "sur"};
        QTest::newRow("ravdess") << "ravdess"
                                 << "" << 48 << 4 << 2 << 2 << fourEach(12)
                                 << QStringList{"angry", "calm",    "disgust", "fear",
                                                "happy", "neutral", "sad",     "surprise"};
        QTest::newRow("ravdess 4class") << "ravdess"
                                        << "4class" << 48 << 4 << 2 << 2 << fourEach(12) << four;
        QTest::newRow("cremad") << "cremad"
                                << "" << 48 << 4 << 2 << 2 << fourEach(12)
                                << QStringList{"angry", "disgust", "fear",
                                               "happy", "neutral", "sad"};
        QTest::newRow("tess") << "tess"
                              << "" << 24 << 2 << 2 << 0 << fourEach(6)
                              << QStringList{"angry",   "disgust", "fear",    "happy",
                                             "neutral", "sad",     "surprise"};
        QTest::newRow("emodb") << "emodb"
                               << "" << 48 << 4 << 2 << 2 << fourEach(12)
                               << QStringList{"angry", "boredom", "disgust", "fear",
                                              "happy", "neutral", "sad"};
        QTest::newRow("savee") << "savee"
                               << "" << 48 << 4 << 0 << 4 << fourEach(12)
                               << QStringList{"angry",   "disgust", "fear",    "happy",
                                              "neutral", "sad",     "surprise"};
        QTest::newRow("msp-podcast") << "msp-podcast"
                                     << "" << 48 << 4 << 2 << 2 << fourEach(12)
                                     << QStringList{"angry", "contempt", "disgust", "fear",
                                                    "happy", "neutral",  "sad",     "surprise"};
        QTest::newRow("generic-csv") << "generic-csv"
                                     << "" << 48 << 4 << 2 << 2 << fourEach(12) << four;
        QTest::newRow("generic-tsv") << "generic-tsv"
                                     << "" << 48 << 4 << 2 << 2 << fourEach(12) << four;
        QTest::newRow("generic-folders") << "generic-folders"
                                         << "" << 48 << 1 << 0 << 0 << fourEach(12) << four;
        QTest::newRow("generic-folders 4class")
            << "generic-folders"
            << "4class" << 48 << 1 << 0 << 0 << fourEach(12) << four;
        QTest::newRow("formats") << "formats"
                                 << "" << 10 << 1 << 1 << 0 << QMap<QString, int>{{"neutral", 10}}
                                 << QStringList{"neutral"};
    }
    void scansEveryLayout()
    {
        QFETCH(QString, layout);
        QFETCH(QString, mapping);
        QFETCH(int, items);
        QFETCH(int, speakers);
        QFETCH(int, femaleSpeakers);
        QFETCH(int, maleSpeakers);
        QFETCH(LabelCounts, labels);
        QFETCH(QStringList, classes);
        const CorpusScan scan = scanLayout(layout, mapping);
        QVERIFY2(scan.problems.isEmpty(), qPrintable(describe(scan.problems)));
        const ScanSummary s = summarise(scan);
        QCOMPARE(s.items, items);
        QCOMPARE(s.speakers, speakers);
        QCOMPARE(s.femaleSpeakers, femaleSpeakers);
        QCOMPARE(s.maleSpeakers, maleSpeakers);
        QCOMPARE(s.labels, labels);
        QCOMPARE(scan.schema.classes, classes);
        QSet<QString> keys;
        for (const ImportItem &item : scan.items) {
            QVERIFY2(QFileInfo(item.utterance.path).isAbsolute(), qPrintable(item.utterance.path));
            QVERIFY2(QFileInfo::exists(item.utterance.path), qPrintable(item.utterance.path));
            QVERIFY(!item.utterance.key.isEmpty());
            keys.insert(item.utterance.key);
            // Every mapped label is one of the schema's classes.
            if (!item.label.category.isEmpty())
                QVERIFY2(scan.schema.classes.contains(item.label.category),
                         qPrintable(item.label.category));
        }
        QCOMPARE(keys.size(), scan.items.size());
    }

    void iemocapDetails()
    {
        const CorpusScan scan = scanLayout(QStringLiteral("iemocap"));
        QCOMPARE(scan.schema.name, QStringLiteral("iemocap-4class"));
        QCOMPARE(scan.schema.scales.size(), 3);
        for (const DimensionScale &scale : scan.schema.scales) {
            QCOMPARE(scale.minimum, 1.0);
            QCOMPARE(scale.maximum, 5.0);
        }

        const ImportItem *first = findItem(scan, QStringLiteral("Ses01F_impro01_F000"));
        QVERIFY(first);
        QVERIFY(first->utterance.path.endsWith(
            QStringLiteral("Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav")));
        QCOMPARE(first->speakerCode, QStringLiteral("Ses01F"));
        QCOMPARE(first->gender, Gender::Female);
        QCOMPARE(first->utterance.sessionKey, QStringLiteral("Session1"));
        QCOMPARE(first->utterance.style, SpeakingStyle::Improvised);
        QCOMPARE(first->utterance.transcript, QStringLiteral("Kids are talking by the door."));
        QCOMPARE(first->utterance.originalLabel, QStringLiteral("neu"));
        QCOMPARE(first->label.category, QStringLiteral("neutral"));
        QCOMPARE(first->label.dimensions.value(QStringLiteral("valence")), 2.5);
        QCOMPARE(first->label.dimensions.value(QStringLiteral("arousal")), 2.5);
        QCOMPARE(first->label.dimensions.value(QStringLiteral("dominance")), 2.5);

        // Excited is happy under 4class; the original code is kept.
        const ImportItem *excited = findItem(scan, QStringLiteral("Ses01F_impro01_M005"));
        QVERIFY(excited);
        QCOMPARE(excited->utterance.originalLabel, QStringLiteral("exc"));
        QCOMPARE(excited->label.category, QStringLiteral("happy"));
        QCOMPARE(excited->gender, Gender::Male);
        QCOMPARE(excited->speakerCode, QStringLiteral("Ses01M"));
        QCOMPARE(excited->label.dimensions.value(QStringLiteral("arousal")), 4.0);
        QCOMPARE(excited->label.dimensions.value(QStringLiteral("dominance")), 3.5);

        // Frustrated and no-agreement turns: imported unlabeled, original code kept.
        const ImportItem *frustrated = findItem(scan, QStringLiteral("Ses02M_script01_1_M003"));
        QVERIFY(frustrated);
        QCOMPARE(frustrated->utterance.originalLabel, QStringLiteral("fru"));
        QVERIFY(frustrated->label.category.isEmpty());
        QCOMPARE(frustrated->utterance.style, SpeakingStyle::Scripted);
        QCOMPARE(frustrated->utterance.sessionKey, QStringLiteral("Session2"));
        QCOMPARE(frustrated->speakerCode, QStringLiteral("Ses02M"));
        const ImportItem *noAgreement = findItem(scan, QStringLiteral("Ses02M_script01_1_F000"));
        QVERIFY(noAgreement);
        QCOMPARE(noAgreement->utterance.originalLabel, QStringLiteral("xxx"));
        QVERIFY(noAgreement->label.category.isEmpty());

        const CorpusScan original =
            scanLayout(QStringLiteral("iemocap"), QStringLiteral("original"));
        QCOMPARE(findItem(original, QStringLiteral("Ses01F_impro01_M005"))->label.category,
                 QStringLiteral("exc"));
        QVERIFY(
            findItem(original, QStringLiteral("Ses02M_script01_1_F000"))->label.category.isEmpty());
        QCOMPARE(original.schema.name, QStringLiteral("iemocap-original"));
    }

    void fileNameCorporaDetails()
    {
        const CorpusScan ravdess = scanLayout(QStringLiteral("ravdess"));
        QCOMPARE(ravdess.schema.name, QStringLiteral("ravdess-original"));
        const ImportItem *r = findItem(ravdess, QStringLiteral("03-01-05-02-01-02-01"));
        QVERIFY(r);
        QCOMPARE(r->speakerCode, QStringLiteral("Actor_01"));
        QCOMPARE(r->gender, Gender::Male);
        QCOMPARE(r->utterance.sessionKey, QStringLiteral("Actor_01"));
        QCOMPARE(r->label.category, QStringLiteral("angry"));
        QCOMPARE(r->utterance.originalLabel, QStringLiteral("05"));
        QCOMPARE(r->utterance.transcript, QStringLiteral("Kids are talking by the door"));
        QCOMPARE(r->utterance.metadata.value(QStringLiteral("intensity")),
                 QStringLiteral("strong"));
        QCOMPARE(r->utterance.metadata.value(QStringLiteral("statement")), QStringLiteral("01"));
        QCOMPARE(findItem(ravdess, QStringLiteral("03-01-04-02-02-01-02"))->gender, Gender::Female);

        const CorpusScan cremad = scanLayout(QStringLiteral("cremad"));
        const ImportItem *c = findItem(cremad, QStringLiteral("1002_IEO_HAP_HI"));
        QVERIFY(c);
        QCOMPARE(c->speakerCode, QStringLiteral("1002"));
        QCOMPARE(c->gender, Gender::Female);
        QCOMPARE(c->label.category, QStringLiteral("happy"));
        QCOMPARE(c->utterance.originalLabel, QStringLiteral("HAP"));
        QCOMPARE(c->utterance.transcript, QStringLiteral("It's eleven o'clock"));
        QCOMPARE(c->utterance.metadata.value(QStringLiteral("intensity")), QStringLiteral("high"));
        QCOMPARE(c->utterance.metadata.value(QStringLiteral("age")), QStringLiteral("21"));
        QCOMPARE(c->utterance.metadata.value(QStringLiteral("race")), QStringLiteral("Caucasian"));

        const CorpusScan tess = scanLayout(QStringLiteral("tess"));
        const ImportItem *t = findItem(tess, QStringLiteral("YAF_bath_sad"));
        QVERIFY(t);
        QCOMPARE(t->speakerCode, QStringLiteral("YAF"));
        QCOMPARE(t->gender, Gender::Female);
        QCOMPARE(t->utterance.transcript, QStringLiteral("bath"));
        QCOMPARE(t->label.category, QStringLiteral("sad"));

        const CorpusScan emodb = scanLayout(QStringLiteral("emodb"));
        const ImportItem *e = findItem(emodb, QStringLiteral("08a02Fa"));
        QVERIFY(e);
        QCOMPARE(e->speakerCode, QStringLiteral("08"));
        QCOMPARE(e->gender, Gender::Female);
        QCOMPARE(e->label.category, QStringLiteral("happy"));
        QCOMPARE(e->utterance.originalLabel, QStringLiteral("F"));
        QCOMPARE(e->utterance.metadata.value(QStringLiteral("sentence")), QStringLiteral("a02"));
        QVERIFY(!e->utterance.transcript.isEmpty());

        const CorpusScan savee = scanLayout(QStringLiteral("savee"));
        const ImportItem *s = findItem(savee, QStringLiteral("KL_sa03"));
        QVERIFY(s);
        QCOMPARE(s->speakerCode, QStringLiteral("KL"));
        QCOMPARE(s->gender, Gender::Male);
        QCOMPARE(s->label.category, QStringLiteral("sad"));
        QCOMPARE(s->utterance.originalLabel, QStringLiteral("sa"));
    }

    void mspPodcastDetails()
    {
        const CorpusScan scan = scanLayout(QStringLiteral("msp-podcast"));
        QCOMPARE(scan.schema.scales.size(), 3);
        for (const DimensionScale &scale : scan.schema.scales) {
            QCOMPARE(scale.minimum, 1.0);
            QCOMPARE(scale.maximum, 7.0);
        }
        QSet<QString> splits;
        for (const ImportItem &item : scan.items) {
            splits.insert(item.utterance.metadata.value(QStringLiteral("split_set")));
            QCOMPARE(item.label.dimensions.size(), 3);
            QCOMPARE(item.utterance.sessionKey, item.speakerCode);
        }
        QCOMPARE(splits, (QSet<QString>{"Train", "Development", "Test1"}));
        // Angry: EmoAct 6.2 -> arousal, EmoVal 1.8 -> valence, EmoDom 6.0 -> dominance.
        const ImportItem *angry = nullptr;
        for (const ImportItem &item : scan.items)
            if (item.speakerCode == u"127" && item.utterance.originalLabel == u"A" &&
                qFuzzyCompare(item.label.dimensions.value(QStringLiteral("arousal")), 6.2))
                angry = &item;
        QVERIFY(angry);
        QCOMPARE(angry->label.category, QStringLiteral("angry"));
        QCOMPARE(angry->gender, Gender::Female);
        QVERIFY(qFuzzyCompare(angry->label.dimensions.value(QStringLiteral("valence")), 1.8));
        QVERIFY(qFuzzyCompare(angry->label.dimensions.value(QStringLiteral("dominance")), 6.0));
    }

    void genericDetails()
    {
        const CorpusScan csv = scanLayout(QStringLiteral("generic-csv"));
        const ImportItem *item = findItem(csv, QStringLiteral("audio/female1/female1_neutral_s2"));
        QVERIFY(item);
        QCOMPARE(item->speakerCode, QStringLiteral("female1"));
        QCOMPARE(item->gender, Gender::Female);
        QCOMPARE(item->label.category, QStringLiteral("neutral"));
        // A quoted field holding commas and an apostrophe stays one field.
        QCOMPARE(item->utterance.metadata.value(QStringLiteral("sentence")),
                 QStringLiteral("Well, I think it is eleven o'clock, isn't it?"));

        const CorpusScan folders = scanLayout(QStringLiteral("generic-folders"));
        const ImportItem *f = findItem(folders, QStringLiteral("angry/male2_s3"));
        QVERIFY(f);
        QCOMPARE(f->label.category, QStringLiteral("angry"));
        QCOMPARE(f->utterance.originalLabel, QStringLiteral("angry"));
        QVERIFY(f->speakerCode.isEmpty());
    }

    void badNamesAreProblemsNamingTheField()
    {
        const CorpusScan scan = scanLayout(QStringLiteral("bad-named"));
        QCOMPARE(scan.items.size(), 4);
        QCOMPARE(scan.problems.size(), 2);
        QVERIFY2(hasProblem(scan.problems, QStringLiteral("Actor_01/03-01-99-01-01-01-01.wav"), 0,
                            QStringLiteral("emotion")),
                 qPrintable(describe(scan.problems)));
        QVERIFY2(hasProblem(scan.problems, QStringLiteral("Actor_01/hello.wav"), 0,
                            QStringLiteral("RAVDESS pattern")),
                 qPrintable(describe(scan.problems)));
    }

    // Malformed text written by the test: each case is one broken line or file, reported with
    // its path, line and reason, while what is readable is still scanned.
    void malformedText_data()
    {
        QTest::addColumn<QString>("format");
        QTest::addColumn<QMap<QString, QByteArray>>("files"); // relative path -> content
        QTest::addColumn<QStringList>("clips");               // relative paths of audio
        QTest::addColumn<int>("items");
        QTest::addColumn<QString>("problemPath");
        QTest::addColumn<int>("problemLine");
        QTest::addColumn<QString>("reasonPart");

        const QByteArray evaluation =
            "% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]\n"
            "\n"
            "[1.0000 - 2.0000]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\n"
            "C-E1:\tNeutral;\t()\n"
            "[2.5000 - oops]\tSes01F_impro01_F001\tang\t[1.5000, 4.0000]\n"
            "A-E3:\tval 3; act 2; dom  2;\t()\n"
            "[3.0000 - 4.0000]\tSes01F_impro01_M002\tsad\t[1.5000, 2.0000, 2.0000]\n";
        QTest::newRow("iemocap bad bracket line")
            << "iemocap"
            << QMap<QString, QByteArray>{{"Session1/dialog/EmoEvaluation/Ses01F_impro01.txt",
                                          evaluation}}
            << QStringList{"Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav",
                           "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F001.wav",
                           "Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_M002.wav"}
            << 2 << "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt" << 5
            << "cannot read the label line";
        QTest::newRow("iemocap label without audio")
            << "iemocap"
            << QMap<QString, QByteArray>{{"Session1/dialog/EmoEvaluation/Ses01F_impro01.txt",
                                          evaluation}}
            << QStringList{"Session1/sentences/wav/Ses01F_impro01/Ses01F_impro01_F000.wav"} << 1
            << "Session1/dialog/EmoEvaluation/Ses01F_impro01.txt" << 7 << "audio file not found";
        QTest::newRow("msp malformed json")
            << "msp-podcast"
            << QMap<QString, QByteArray>{{"Labels/labels_consensus.json",
                                          "{\"a.wav\": {\"EmoClass\": \"N\", \"EmoAct\": 4,}"}}
            << QStringList{"Audios/a.wav"} << 0 << "Labels/labels_consensus.json" << 0 << "at byte";
        QTest::newRow("msp labelled file missing")
            << "msp-podcast"
            << QMap<QString, QByteArray>{{"Labels/labels_consensus.json",
                                          "{\"a.wav\": {\"EmoClass\": \"H\", \"EmoAct\": 5},"
                                          " \"gone.wav\": {\"EmoClass\": \"S\"}}"}}
            << QStringList{"Audios/a.wav"} << 1 << "Labels/labels_consensus.json" << 0
            << "gone.wav";
        QTest::newRow("csv broken quote")
            << "generic"
            << QMap<QString, QByteArray>{{"manifest.csv", "path,label,speaker\n"
                                                          "a.wav,happy,s1\n"
                                                          "\"b.wav,sad,s1\n"
                                                          "c.wav,\"angry\",s2\n"}}
            << QStringList{"a.wav", "b.wav", "c.wav"} << 2 << "manifest.csv" << 3 << "quote";
        QTest::newRow("csv text after closing quote")
            << "generic"
            << QMap<QString, QByteArray>{{"manifest.csv",
                                          "path,label,speaker\n"
                                          "a.wav,\"happy\"x,s1\n"
                                          "\"c.wav\",\"an \"\"angry\"\" one\",s2\n"}}
            << QStringList{"a.wav", "c.wav"} << 1 << "manifest.csv" << 2 << "closing quote";
        QTest::newRow("csv wrong column count")
            << "generic"
            << QMap<QString, QByteArray>{{"labels.csv", "file,emotion,spk,sex\r\n"
                                                        "a.wav,happy,s1,f\r\n"
                                                        "b.wav,sad\r\n"}}
            << QStringList{"a.wav", "b.wav"} << 1 << "labels.csv" << 3 << "expected 4 columns";
        QTest::newRow("csv file not found")
            << "generic"
            << QMap<QString, QByteArray>{{"manifest.csv", "path,label\nnot-there.wav,sad\n"}}
            << QStringList{"a.wav"} << 0 << "manifest.csv" << 2 << "not-there.wav";
    }
    void malformedText()
    {
        QFETCH(QString, format);
        QFETCH(FileContents, files);
        QFETCH(QStringList, clips);
        QFETCH(int, items);
        QFETCH(QString, problemPath);
        QFETCH(int, problemLine);
        QFETCH(QString, reasonPart);
        QTemporaryDir dir;
        for (auto it = files.begin(); it != files.end(); ++it)
            writeFile(QDir(dir.path()).filePath(it.key()), it.value());
        for (const QString &clip : clips)
            copyClip(QDir(dir.path()).filePath(clip));
        const auto detected = detectCorpusFormat(dir.path());
        QVERIFY(detected);
        QCOMPARE(detected->name(), format);
        SilentProgress progress;
        const CorpusScan scan =
            detected->scan(dir.path(), detected->labelMappings().first(), progress);
        QCOMPARE(scan.items.size(), items);
        QVERIFY2(hasProblem(scan.problems, problemPath, problemLine, reasonPart),
                 qPrintable(describe(scan.problems)));
        for (const ImportProblem &p : scan.problems)
            QVERIFY(QFileInfo(p.path).isAbsolute());
    }

    void importsEveryLayoutIntoTheStore_data()
    {
        QTest::addColumn<QString>("layout");
        QTest::addColumn<int>("utterances");
        QTest::addColumn<int>("speakers");
        QTest::addColumn<QMap<QString, int>>("labels");
        QTest::newRow("iemocap") << "iemocap" << 48 << 4
                                 << QMap<QString, int>{
                                        {"angry", 11}, {"happy", 12}, {"neutral", 11}, {"sad", 12}};
        QTest::newRow("ravdess") << "ravdess" << 48 << 4 << fourEach(12);
        QTest::newRow("cremad") << "cremad" << 48 << 4 << fourEach(12);
        QTest::newRow("tess") << "tess" << 24 << 2 << fourEach(6);
        QTest::newRow("emodb") << "emodb" << 48 << 4 << fourEach(12);
        QTest::newRow("savee") << "savee" << 48 << 4 << fourEach(12);
        QTest::newRow("msp-podcast") << "msp-podcast" << 48 << 4 << fourEach(12);
        QTest::newRow("generic-csv") << "generic-csv" << 48 << 4 << fourEach(12);
        QTest::newRow("generic-tsv") << "generic-tsv" << 48 << 4 << fourEach(12);
        QTest::newRow("generic-folders") << "generic-folders" << 48 << 1 << fourEach(12);
        QTest::newRow("formats") << "formats" << 10 << 1 << QMap<QString, int>{{"neutral", 10}};
    }
    void importsEveryLayoutIntoTheStore()
    {
        QFETCH(QString, layout);
        QFETCH(int, utterances);
        QFETCH(int, speakers);
        QFETCH(LabelCounts, labels);
        QTemporaryDir dir;
        ImportRequest request;
        request.rootPath = test::corpus(layout);
        request.databasePath = QDir(dir.path()).filePath(QStringLiteral("workspace.emolens"));
        SilentProgress progress;
        ImportReport report;
        const Status st = CorpusImporter::run(request, progress, &report);
        QVERIFY2(st.ok(), qPrintable(st.error()));
        QVERIFY2(report.skipped.isEmpty(), qPrintable(describe(report.skipped)));
        QCOMPARE(report.outcome.added, utterances);
        QCOMPARE(report.labelCounts, labels);

        {
            Database db(request.databasePath);
            QVERIFY(db.open());
            CorpusRepository corpora(db);
            QCOMPARE(corpora.utteranceCount(), utterances);
            const QList<CorpusRecord> all = corpora.corpora();
            QCOMPARE(all.size(), 1);
            QCOMPARE(all.first().name, layout);
            QCOMPARE(all.first().format, report.format);
            const QList<SpeakerRecord> stored = corpora.speakers(all.first().id);
            QCOMPARE(stored.size(), speakers);
            // Each stored speaker has the gender its utterances were scanned with.
            const CorpusScan scan = scanLayout(layout);
            QHash<QString, Gender> scanned;
            for (const ImportItem &item : scan.items)
                scanned.insert(item.speakerCode.isEmpty() ? QStringLiteral("unknown")
                                                          : item.speakerCode,
                               item.gender);
            for (const SpeakerRecord &s : stored)
                QCOMPARE(s.gender, scanned.value(s.code));
            QCOMPARE(LabelRepository(db).labelCounts(all.first().id), labels);
        }

        // Importing the same folder again changes nothing.
        ImportReport again;
        QVERIFY(CorpusImporter::run(request, progress, &again).ok());
        QCOMPARE(again.outcome.added, 0);
        QCOMPARE(again.outcome.updated, 0);
        QCOMPARE(again.outcome.unchanged, utterances);
        QCOMPARE(again.outcome.labelsAdded, 0);
        Database db(request.databasePath);
        QVERIFY(db.open());
        QCOMPARE(CorpusRepository(db).utteranceCount(), utterances);
    }

    void badImportReportsEachFileAndKeepsStoredData()
    {
        QTemporaryDir dir;
        const QString database = QDir(dir.path()).filePath(QStringLiteral("workspace.emolens"));
        SilentProgress progress;
        ImportRequest first;
        first.rootPath = test::corpus(QStringLiteral("generic-csv"));
        first.databasePath = database;
        ImportReport firstReport;
        QVERIFY(CorpusImporter::run(first, progress, &firstReport).ok());
        QMap<QString, int> labelsBefore;
        qint64 csvCorpus = 0;
        {
            Database db(database);
            QVERIFY(db.open());
            csvCorpus = CorpusRepository(db).corpora().first().id;
            labelsBefore = LabelRepository(db).labelCounts(csvCorpus);
        }

        ImportRequest bad;
        bad.rootPath = test::corpus(QStringLiteral("bad"));
        bad.databasePath = database;
        ImportReport report;
        const Status st = CorpusImporter::run(bad, progress, &report);
        QVERIFY2(st.ok(), qPrintable(st.error()));
        QCOMPARE(report.outcome.added, 6);
        const QString all = describe(report.skipped);
        for (const char *file :
             {"empty.wav", "header-only.wav", "truncated.wav", "not-audio.wav", "random.wav"})
            QVERIFY2(hasProblem(report.skipped, QLatin1String(file), 0, QString()),
                     qPrintable(QStringLiteral("%1 not reported in:\n%2").arg(file, all)));
        for (const ImportProblem &p : report.skipped)
            QVERIFY2(!p.reason.isEmpty(), qPrintable(p.path));
        QVERIFY2(hasProblem(report.skipped, QStringLiteral("bad/manifest.csv"), 13,
                            QStringLiteral("missing.wav")),
                 qPrintable(all));
        QVERIFY2(hasProblem(report.skipped, QStringLiteral("bad/manifest.csv"), 14,
                            QStringLiteral("columns")),
                 qPrintable(all));
        QVERIFY2(hasProblem(report.skipped, QStringLiteral("bad/manifest.csv"), 15,
                            QStringLiteral("path is empty")),
                 qPrintable(all));
        QCOMPARE(report.skipped.size(), 8);

        Database db(database);
        QVERIFY(db.open());
        CorpusRepository corpora(db);
        QCOMPARE(corpora.corpora().size(), 2);
        QCOMPARE(corpora.utteranceCount(csvCorpus), 48);
        QCOMPARE(LabelRepository(db).labelCounts(csvCorpus), labelsBefore);
        QCOMPARE(corpora.utteranceCount(), 48 + 6);
    }

    void badNamedImportKeepsTheGoodFiles()
    {
        QTemporaryDir dir;
        ImportRequest request;
        request.rootPath = test::corpus(QStringLiteral("bad-named"));
        request.databasePath = QDir(dir.path()).filePath(QStringLiteral("workspace.emolens"));
        SilentProgress progress;
        ImportReport report;
        QVERIFY(CorpusImporter::run(request, progress, &report).ok());
        QCOMPARE(report.format, QStringLiteral("ravdess"));
        QCOMPARE(report.outcome.added, 4);
        QCOMPARE(report.skipped.size(), 2);
        QVERIFY(hasProblem(report.skipped, QStringLiteral("03-01-99-01-01-01-01.wav"), 0,
                           QStringLiteral("emotion code \"99\"")));
        QVERIFY(
            hasProblem(report.skipped, QStringLiteral("hello.wav"), 0, QStringLiteral("pattern")));
    }

    // Every valid RAVDESS name is read and every other name reported; every manifest line is
    // read. (How fast: tests/bench/bench_scan.)
    void scanningReadsEveryNameAndLine()
    {
        QTemporaryDir dir;
        const QDir root(dir.path());
        const int valid = 900, odd = 100;
        root.mkpath(QStringLiteral("Actor_01"));
        for (int i = 0; i < odd; ++i) {
            QFile f(root.filePath(QStringLiteral("Actor_01/odd-name-%1.wav").arg(i)));
            QVERIFY(f.open(QIODevice::WriteOnly));
        }
        for (int i = 0; i < valid; ++i) {
            // Spread i over the seven fields so every name is a distinct, valid one.
            int rest = i;
            auto take = [&rest](int count) {
                const int v = rest % count + 1;
                rest /= count;
                return QStringLiteral("%1").arg(v, 2, 10, QLatin1Char('0'));
            };
            const QString emotion = take(8), intensity = take(2), statement = take(2),
                          repetition = take(2), channel = take(2), modality = take(3),
                          actor = take(24);
            const QString folder = QStringLiteral("Actor_") + actor;
            root.mkpath(folder);
            QFile f(root.filePath(QStringLiteral("%1/%2-%3-%4-%5-%6-%7-%8.wav")
                                      .arg(folder, modality, channel, emotion, intensity, statement,
                                           repetition, actor)));
            QVERIFY(f.open(QIODevice::WriteOnly));
        }
        const int lines = 1000;
        QString manifest = QStringLiteral("path,label,speaker\n");
        QDir().mkpath(root.filePath(QStringLiteral("csv")));
        for (int i = 0; i < lines; ++i) {
            manifest += QStringLiteral("x%1.wav,happy,s%2\n").arg(i).arg(i % 10);
            QFile(root.filePath(QStringLiteral("csv/x%1.wav").arg(i))).open(QIODevice::WriteOnly);
        }
        writeFile(root.filePath(QStringLiteral("csv/manifest.csv")), manifest.toUtf8());

        SilentProgress progress;
        const CorpusScan ravdess = corpusFormat(QStringLiteral("ravdess"))
                                       ->scan(dir.path(), QStringLiteral("original"), progress);
        const CorpusScan generic =
            corpusFormat(QStringLiteral("generic"))
                ->scan(root.filePath(QStringLiteral("csv")), QStringLiteral("original"), progress);
        QCOMPARE(ravdess.items.size(), valid);
        QCOMPARE(ravdess.problems.size(), odd);
        QCOMPARE(generic.items.size(), lines);
    }

    void cancelStopsTheScan()
    {
        class CancelAtOnce final : public ProgressSink
        {
        public:
            void setProgress(double, const QString &) override { ++calls; }
            bool isCancelled() const override { return true; }
            int calls = 0;
        } cancel;
        const auto format = corpusFormat(QStringLiteral("ravdess"));
        const CorpusScan scan = format->scan(test::corpus(QStringLiteral("ravdess")),
                                             QStringLiteral("original"), cancel);
        QVERIFY(scan.items.size() < 48);
        QVERIFY(cancel.calls > 0);
    }
};

QTEST_GUILESS_MAIN(TestImporters)
#include "test_importers.moc"
