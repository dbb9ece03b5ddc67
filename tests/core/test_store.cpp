// The store: schema and migrations, idempotent import, moved/changed files, append-only
// label history, and durability of committed labels across a kill.

#include "TestPaths.h"
#include "TestWorkspace.h"
#include "analysis/ModelConfusion.h"
#include "audio/AudioFile.h"
#include "common/PathMap.h"
#include "corpus/CorpusExporter.h"
#include "corpus/CorpusImporter.h"
#include "store/AnalysisRepository.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/FeatureRepository.h"
#include "store/LabelRepository.h"
#include "store/ModelRepository.h"
#include "store/SelectionRepository.h"
#include "store/TraceRepository.h"

#include <QFile>
#include <QFileInfo>
#include <QMutex>
#include <QSqlDatabase>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>
#include <csignal>
#include <functional>
#include <sys/wait.h>
#include <unistd.h>

using namespace emolens;

namespace {

// Writes a small real WAV file (16 kHz mono 16-bit) whose samples depend on `seed`.
QString writeClip(const QString &path, int seed, int frames = 1600)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return QString();
    auto put32 = [&](quint32 v) { f.write(reinterpret_cast<const char *>(&v), 4); };
    auto put16 = [&](quint16 v) { f.write(reinterpret_cast<const char *>(&v), 2); };
    const quint32 dataBytes = quint32(frames) * 2;
    f.write("RIFF");
    put32(36 + dataBytes);
    f.write("WAVEfmt ");
    put32(16);
    put16(1);
    put16(1);
    put32(16000);
    put32(32000);
    put16(2);
    put16(16);
    f.write("data");
    put32(dataBytes);
    for (int i = 0; i < frames; ++i)
        put16(quint16(qint16((i * (seed + 3)) % 2000 - 1000)));
    return path;
}

ImportItem itemFor(const QString &path, const QString &key, const QString &speaker, Gender gender,
                   const QString &label)
{
    ImportItem item;
    AudioProbe probe;
    if (!probeAudioFile(path, &probe))
        qFatal("cannot probe %s", qPrintable(path));
    item.utterance.path = path;
    item.utterance.key = key;
    item.utterance.sampleRate = probe.info.sampleRate;
    item.utterance.channels = probe.info.channels;
    item.utterance.frames = probe.info.frames;
    item.utterance.durationSeconds = probe.info.durationSeconds;
    item.utterance.contentHash = probe.contentHash;
    item.utterance.fileSizeBytes = probe.fileSizeBytes;
    item.utterance.originalLabel = label;
    item.utterance.metadata.insert(QStringLiteral("source"), QStringLiteral("test"));
    item.speakerCode = speaker;
    item.gender = gender;
    item.label.category = label;
    return item;
}

ImportBatch batchFor(const QString &root, const QList<ImportItem> &items)
{
    ImportBatch b;
    b.corpusName = QStringLiteral("toy");
    b.rootPath = root;
    b.format = QStringLiteral("generic");
    b.labelMapping = QStringLiteral("original");
    b.schema.name = QStringLiteral("toy-4class");
    b.schema.classes = {QStringLiteral("angry"), QStringLiteral("happy"), QStringLiteral("neutral"),
                        QStringLiteral("sad")};
    b.schema.scales = {{QStringLiteral("arousal"), 1, 5}};
    b.items = items;
    return b;
}

QVariant scalar(Database &db, const QString &sql)
{
    QSqlQuery q(db.connection());
    if (!q.exec(sql) || !q.next())
        return QVariant();
    return q.value(0);
}

// Runs `work` on two threads at once while another connection holds the workspace's write
// lock, lets the lock go once both have started, and returns each thread's error ("" for
// none). The threads meet the lock together, as two programs would.
QStringList twoAtOnceBehindTheLock(const QString &path, const std::function<Status()> &work)
{
    QStringList errors;
    // Starts the two, gives them time to meet the lock, lets it go, waits for both.
    const auto runBehind = [&](const std::function<bool()> &letGo) {
        QMutex lock;
        QList<QThread *> threads;
        for (int i = 0; i < 2; ++i) {
            threads << QThread::create([&] {
                const Status st = work();
                QMutexLocker locker(&lock);
                errors << (st ? QString() : st.error());
            });
            threads.last()->start();
        }
        QThread::msleep(400); // both have read what they read and wait for the lock
        const bool released = letGo();
        for (QThread *t : threads) {
            t->wait();
            delete t;
        }
        if (!released)
            errors << QStringLiteral("cannot let the lock go");
    };
    if (test::onPostgres()) {
        // The holder is a writer like any other: its transaction holds the write lock.
        Database holder(path);
        Transaction tx(holder);
        if (!holder.open() || !tx.begin())
            return {QStringLiteral("cannot take the lock")};
        runBehind([&] { return tx.commit().ok(); });
        return errors;
    }
    const QString holderName = QStringLiteral("lock-holder");
    {
        QSqlDatabase holder = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), holderName);
        holder.setDatabaseName(path);
        QSqlQuery hold(holder);
        if (!holder.open() || !hold.exec(QStringLiteral("PRAGMA journal_mode=WAL")) ||
            !hold.exec(QStringLiteral("BEGIN IMMEDIATE")))
            return {QStringLiteral("cannot take the lock")};
        runBehind([&] { return hold.exec(QStringLiteral("COMMIT")); });
        holder.close();
    }
    QSqlDatabase::removeDatabase(holderName);
    return errors;
}

} // namespace

class StoreTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void newWorkspaceHasCurrentSchemaWalAndForeignKeys();
    void migratesVersion1WorkspaceKeepingData();
    void refusesNewerSchemaAndNonDatabaseFiles();
    void reimportIsIdempotent();
    void detectsChangedAndMovedFiles();
    void labelHistoryIsAppendOnly();
    void shownLabelPrefersNewestAnnotatorAndFallsBackWhenCleared();
    void committedLabelSurvivesKill();
    void uncommittedWorkIsDiscardedOnKill();
    void personsLabelSurvivesAnotherMapping();
    void dimensionsOnlyEditKeepsTheShownCategory();
    void historySaysWhatChangedAndMarksUndo();
    void personCannotSignInUnderACorpusName();
    void migrationFromSchema3KeepsEveryLabel();
    void twoProcessesMigratingAtOnceBothOpen();
    void schema4WorkspaceKeepsEveryLabel();
    void trainingRunsModelsAndPredictions();
    void pretrainedBackbonesAreStoredWithTheirRun();
    void mapLayoutsAreStoredAndTheNewestKept();
    void selectionRoundsAndSimulationsAreStored();
    void schema5WorkspaceKeepsEveryLabelAndModel();
    void schema7WorkspaceKeepsEveryLabelModelAndRound();
    void schema8WorkspaceKeepsEveryLabelModelAndMap();
    void refusesAnotherProgramsDatabase();
    void twoConnectionsAddTheSameEncoderAtOnce();
    void speakersComeInNaturalOrder();
    void unreadableTablesAreErrorsNotEmptyResults();
    void aLabelWrittenTwiceWithItsKeyIsStoredOnce();
    void schema9WorkspaceKeepsEveryLabelModelAndTrace();
    void schema10WorkspaceKeepsItsLabelsAndCrossValidations();
    void pathMapsLetMachinesMountTheAudioElsewhere();

private:
    // A new workspace on the backend this run is on (TestWorkspace.h).
    QString workspace(const QString &name) const
    {
        return test::newWorkspace(QDir(m_dir.path()), name);
    }

    QTemporaryDir m_dir;
};

// Tests of what only an SQLite file has (its pragmas, a committed schema-3 file, a text file
// opened as a workspace) say so on the PostgreSQL run.
#define SQLITE_ONLY(why)                                                                           \
    if (test::onPostgres())                                                                        \
        QSKIP("SQLite only: " why);

void StoreTest::newWorkspaceHasCurrentSchemaWalAndForeignKeys()
{
    Database db(workspace(QStringLiteral("new")));
    QVERIFY2(db.open(), "open failed");
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    if (test::onPostgres()) {
        QVERIFY(db.isServer());
        QCOMPARE(scalar(db, QStringLiteral("SELECT version FROM emolens_schema")).toInt(),
                 Database::kCurrentSchemaVersion);
        QCOMPARE(scalar(db, QStringLiteral("SHOW lock_timeout")).toString(), QStringLiteral("10s"));
        // Ids come from identity columns; reals are doubles, not PostgreSQL's 4-byte REAL.
        QCOMPARE(scalar(db, QStringLiteral("SELECT data_type FROM information_schema.columns "
                                           "WHERE table_name='utterances' AND "
                                           "column_name='duration_seconds'"))
                     .toString(),
                 QStringLiteral("double precision"));
        QCOMPARE(scalar(db, QStringLiteral("SELECT is_identity FROM information_schema.columns "
                                           "WHERE table_name='labels' AND column_name='id'"))
                     .toString(),
                 QStringLiteral("YES"));
    } else {
        QVERIFY(!db.isServer());
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA journal_mode")).toString(),
                 QStringLiteral("wal"));
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA foreign_keys")).toInt(), 1);
        QVERIFY(scalar(db, QStringLiteral("PRAGMA busy_timeout")).toInt() >= 1000);
    }
    // A label for an utterance that does not exist violates a foreign key.
    LabelRepository labels(db);
    QVERIFY(!labels.setLabel(12345, 1, QStringLiteral("ann"),
                             LabelValue::ofCategory(QStringLiteral("sad"))));
}

void StoreTest::migratesVersion1WorkspaceKeepingData()
{
    const QString path = workspace(QStringLiteral("old"));
    {
        Database v1(path);
        QVERIFY(v1.open(/*targetVersion=*/1));
        QCOMPARE(v1.schemaVersion(), 1);
        QSqlQuery q(v1.connection());
        QVERIFY(q.exec(QStringLiteral("INSERT INTO label_schemas(id,name,classes,scales) "
                                      "VALUES(1,'s','[\"sad\",\"happy\"]','[]')")));
        QVERIFY(
            q.exec(QStringLiteral("INSERT INTO corpora(id,name,root_path,format,"
                                  "label_schema_id,imported_at) VALUES(1,'old','/x','generic',1,"
                                  "'2026-01-01T00:00:00.000Z')")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO speakers(id,corpus_id,code,gender) "
                                      "VALUES(1,1,'spk','female')")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO utterances(id,corpus_id,speaker_id,key,path,"
                                      "content_hash) VALUES(1,1,1,'u1','/x/u1.wav','abc')")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO annotators(id,name,created_at) "
                                      "VALUES(1,'ann','2026-01-01T00:00:00.000Z')")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO labels(utterance_id,schema_id,annotator_id,"
                                      "created_at,category) VALUES(1,1,1,"
                                      "'2026-01-01T00:00:00.000Z','sad')")));
    }
    Database db(path);
    QVERIFY(db.open());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    CorpusRepository corpora(db);
    const auto u = corpora.utterance(1);
    QVERIFY(u.has_value());
    QCOMPARE(u->key, QStringLiteral("u1"));
    QCOMPARE(u->fileSizeBytes, qint64(0)); // the column version 2 added
    QCOMPARE(LabelRepository(db).labelCounts().value(QStringLiteral("sad")), 1);
    QCOMPARE(corpora.speakers(1).first().gender, Gender::Female);
}

void StoreTest::refusesNewerSchemaAndNonDatabaseFiles()
{
    const QString newer = workspace(QStringLiteral("newer"));
    {
        Database db(newer);
        QVERIFY(db.open());
        QSqlQuery q(db.connection());
        QVERIFY(q.exec(test::onPostgres() ? QStringLiteral("UPDATE emolens_schema SET version=99")
                                          : QStringLiteral("PRAGMA user_version=99")));
    }
    Database db(newer);
    const Status st = db.open();
    QVERIFY(!st);
    QVERIFY2(st.error().contains(newer) && st.error().contains(QStringLiteral("newer")),
             qPrintable(st.error()));
    if (test::onPostgres())
        return; // the rest opens a text file

    const QString text = m_dir.filePath(QStringLiteral("notes.emolens"));
    QFile f(text);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write("these are my notes, not a database\n");
    f.close();
    Database notDb(text);
    const Status st2 = notDb.open();
    QVERIFY(!st2);
    QVERIFY2(st2.error().contains(text), qPrintable(st2.error()));
    QFile check(text);
    QVERIFY(check.open(QIODevice::ReadOnly));
    QCOMPARE(check.readAll(), QByteArray("these are my notes, not a database\n")); // untouched
}

void StoreTest::reimportIsIdempotent()
{
    QTemporaryDir root;
    QList<ImportItem> items;
    for (int i = 0; i < 6; ++i) {
        const QString label = QStringList{QStringLiteral("angry"), QStringLiteral("sad")}[i % 2];
        items << itemFor(writeClip(root.filePath(QStringLiteral("c%1.wav").arg(i)), i),
                         QStringLiteral("c%1").arg(i), QStringLiteral("s%1").arg(i % 3),
                         i % 3 == 0 ? Gender::Female : Gender::Male, label);
    }
    Database db(workspace(QStringLiteral("idem")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome first, second;
    QVERIFY(corpora.applyImport(batchFor(root.path(), items), &first));
    QCOMPARE(first.added, 6);
    QCOMPARE(first.labelsAdded, 6);
    QVERIFY(corpora.applyImport(batchFor(root.path(), items), &second));
    QCOMPARE(second.added, 0);
    QCOMPARE(second.unchanged, 6);
    QCOMPARE(second.labelsAdded, 0);
    QCOMPARE(corpora.utteranceCount(), 6);
    QCOMPARE(corpora.speakers(first.corpusId).size(), 3);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM labels")).toInt(), 6);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM label_schemas")).toInt(), 1);
    const auto rows = corpora.utteranceRows();
    QCOMPARE(rows.size(), 6);
    QCOMPARE(rows.first().label, QStringLiteral("angry"));
    QCOMPARE(rows.first().labeledBy, QStringLiteral("corpus:toy"));
    QCOMPARE(corpora.utterance(rows.first().id)->metadata.value(QStringLiteral("source")),
             QStringLiteral("test"));
}

void StoreTest::detectsChangedAndMovedFiles()
{
    QTemporaryDir root;
    const QString a = writeClip(root.filePath(QStringLiteral("a.wav")), 1);
    const QString b = writeClip(root.filePath(QStringLiteral("b.wav")), 2);
    Database db(workspace(QStringLiteral("moved")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(), {itemFor(a, QStringLiteral("a"), QStringLiteral("s"), Gender::Male,
                                       QStringLiteral("sad")),
                               itemFor(b, QStringLiteral("b"), QStringLiteral("s"), Gender::Male,
                                       QStringLiteral("happy"))}),
        &outcome));
    const qint64 idOfA = corpora.utteranceRows().first().id;
    LabelRepository labels(db);
    QVERIFY(labels.setLabel(idOfA, corpora.corpus(outcome.corpusId)->labelSchemaId,
                            QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("angry"))));

    // a.wav moves to a sub-folder (new key), b.wav's content changes.
    QVERIFY(QDir(root.path()).mkdir(QStringLiteral("moved")));
    const QString movedA = root.filePath(QStringLiteral("moved/a.wav"));
    QVERIFY(QFile::rename(a, movedA));
    writeClip(b, 7, 3200);
    QVERIFY(corpora.applyImport(
        batchFor(root.path(), {itemFor(movedA, QStringLiteral("moved/a"), QStringLiteral("s"),
                                       Gender::Male, QStringLiteral("sad")),
                               itemFor(b, QStringLiteral("b"), QStringLiteral("s"), Gender::Male,
                                       QStringLiteral("happy"))}),
        &outcome));
    QCOMPARE(outcome.moved, 1);
    QCOMPARE(outcome.updated, 1);
    QCOMPARE(outcome.added, 0);
    // The import report names them, so a re-import after a rename does not say just "0 new".
    QCOMPARE(outcome.movedPaths.size(), 1);
    QCOMPARE(outcome.movedPaths.first().first, a);
    QCOMPARE(outcome.movedPaths.first().second, movedA);
    QCOMPARE(outcome.updatedPaths, QStringList{b});
    QCOMPARE(corpora.utteranceCount(), 2);
    const auto moved = corpora.utterance(idOfA);
    QCOMPARE(moved->path, movedA); // same utterance, so its labels stay with it
    QCOMPARE(labels.history(idOfA).size(), 2);
    const auto rows = corpora.utteranceRows();
    for (const UtteranceRow &r : rows)
        if (r.key == u"b")
            QCOMPARE(r.durationSeconds, 0.2);
}

void StoreTest::labelHistoryIsAppendOnly()
{
    QTemporaryDir root;
    Database db(workspace(QStringLiteral("history")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(),
                 {itemFor(writeClip(root.filePath(QStringLiteral("x.wav")), 3), QStringLiteral("x"),
                          QStringLiteral("s"), Gender::Female, QString())}),
        &outcome));
    const qint64 id = corpora.utteranceRows().first().id;
    const qint64 schemaId = corpora.corpus(outcome.corpusId)->labelSchemaId;
    LabelRepository labels(db);
    LabelValue v1 = LabelValue::ofCategory(QStringLiteral("happy"));
    v1.dimensions.insert(QStringLiteral("arousal"), 4.5);
    v1.confidence = 0.66;
    v1.notes = QStringLiteral("laughs at the end");
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), v1));
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("sad"))));
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), v1));
    const auto history = labels.history(id);
    QCOMPARE(history.size(), 3);
    QCOMPARE(history[1].value.category, QStringLiteral("sad"));
    QCOMPARE(history[2].value, v1);
    QCOMPARE(labels.currentLabel(id, QStringLiteral("ann"))->value, v1);
    LabelValue overconfident = LabelValue::ofCategory(QStringLiteral("sad"));
    overconfident.confidence = 1.5;
    QVERIFY(!labels.setLabel(id, schemaId, QStringLiteral("ann"), overconfident));
    // The store itself refuses to rewrite history.
    QSqlQuery q(db.connection());
    QVERIFY(!q.exec(QStringLiteral("UPDATE labels SET category='angry'")));
    QVERIFY(q.lastError().text().contains(QStringLiteral("append-only")));
    QCOMPARE(labels.history(id).size(), 3);
}

void StoreTest::shownLabelPrefersNewestAnnotatorAndFallsBackWhenCleared()
{
    QTemporaryDir root;
    Database db(workspace(QStringLiteral("shown")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(),
                 {itemFor(writeClip(root.filePath(QStringLiteral("y.wav")), 4), QStringLiteral("y"),
                          QStringLiteral("s"), Gender::Female, QStringLiteral("neutral"))}),
        &outcome));
    const qint64 id = corpora.utteranceRows().first().id;
    const qint64 schemaId = corpora.corpus(outcome.corpusId)->labelSchemaId;
    LabelRepository labels(db);
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("sad"))));
    QCOMPARE(corpora.utteranceRows().first().label, QStringLiteral("sad"));
    QCOMPARE(corpora.utteranceRows().first().labeledBy, QStringLiteral("ann"));
    QCOMPARE(labels.shownLabel(id).category, QStringLiteral("sad"));
    QCOMPARE(labels.shownLabel(id).origin, LabelOrigin::Person);
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), LabelValue{})); // cleared
    QCOMPARE(corpora.utteranceRows().first().label, QStringLiteral("neutral"));
    QCOMPARE(labels.labelCounts(), (QMap<QString, int>{{QStringLiteral("neutral"), 1}}));
}

void StoreTest::committedLabelSurvivesKill()
{
    QTemporaryDir root;
    const QString path = workspace(QStringLiteral("kill"));
    qint64 id = 0, schemaId = 0;
    {
        Database db(path);
        QVERIFY(db.open());
        CorpusRepository corpora(db);
        ImportOutcome outcome;
        QVERIFY(corpora.applyImport(
            batchFor(root.path(), {itemFor(writeClip(root.filePath(QStringLiteral("k.wav")), 5),
                                           QStringLiteral("k"), QStringLiteral("s"), Gender::Female,
                                           QString())}),
            &outcome));
        id = corpora.utteranceRows().first().id;
        schemaId = corpora.corpus(outcome.corpusId)->labelSchemaId;
    }
    const pid_t child = fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        Database db(path);
        if (db.open() &&
            LabelRepository(db).setLabel(id, schemaId, QStringLiteral("ann"),
                                         LabelValue::ofCategory(QStringLiteral("angry"))))
            ::kill(getpid(), SIGKILL); // no close, no checkpoint: the WAL must hold it
        _exit(3);
    }
    int status = 0;
    waitpid(child, &status, 0);
    QVERIFY(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    Database db(path);
    QVERIFY(db.open());
    const auto label = LabelRepository(db).currentLabel(id, QStringLiteral("ann"));
    QVERIFY(label.has_value());
    QCOMPARE(label->value.category, QStringLiteral("angry"));
    if (!test::onPostgres())
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(),
                 QStringLiteral("ok"));
}

void StoreTest::uncommittedWorkIsDiscardedOnKill()
{
    // Its own workspace with one committed label, so the test never depends on another's file.
    QTemporaryDir root;
    const QString path = workspace(QStringLiteral("kill-uncommitted"));
    int before = 0;
    {
        Database db(path);
        QVERIFY(db.open());
        CorpusRepository corpora(db);
        ImportOutcome outcome;
        QVERIFY(corpora.applyImport(
            batchFor(root.path(), {itemFor(writeClip(root.filePath(QStringLiteral("u.wav")), 6),
                                           QStringLiteral("u"), QStringLiteral("s"), Gender::Male,
                                           QStringLiteral("happy"))}),
            &outcome));
        QVERIFY(LabelRepository(db).setLabel(
            corpora.utteranceRows().first().id, corpora.corpus(outcome.corpusId)->labelSchemaId,
            QStringLiteral("ann"), LabelValue::ofCategory(QStringLiteral("sad"))));
        before = scalar(db, QStringLiteral("SELECT count(*) FROM labels")).toInt();
        QCOMPARE(before, 2); // the corpus's and ann's
    }
    const pid_t child = fork();
    QVERIFY(child >= 0);
    if (child == 0) {
        Database db(path);
        if (db.open()) {
            Transaction tx(db);
            QSqlQuery q(db.connection());
            if (tx.begin() &&
                q.exec(QStringLiteral("INSERT INTO labels(utterance_id, schema_id, annotator_id, "
                                      "created_at, category) SELECT utterance_id, schema_id, "
                                      "annotator_id, created_at, 'sad' FROM labels")))
                ::kill(getpid(), SIGKILL); // killed inside the transaction
        }
        _exit(3);
    }
    int status = 0;
    waitpid(child, &status, 0);
    QVERIFY(WIFSIGNALED(status));
    Database db(path);
    QVERIFY(db.open());
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM labels")).toInt(), before);
    if (!test::onPostgres())
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(),
                 QStringLiteral("ok"));
}

namespace {

// Imports the generated RAVDESS test corpus with a mapping, through the real importer.
bool importRavdess(const QString &workspace, const QString &mapping)
{
    ImportRequest request;
    request.rootPath = test::corpus(QStringLiteral("ravdess"));
    request.databasePath = workspace;
    request.format = QStringLiteral("ravdess");
    request.labelMapping = mapping;
    ImportReport report;
    SilentProgress quiet;
    return CorpusImporter::run(request, quiet, &report).ok() && report.imported() > 0;
}

QString exportCsv(const QString &workspace, const QString &out)
{
    Database db(workspace);
    if (!db.open())
        return QString();
    ExportRequest request;
    request.format = QStringLiteral("csv");
    request.outPath = out;
    SilentProgress quiet;
    if (!CorpusExporter::run(db, request, quiet))
        return QString();
    QFile f(out);
    return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
}

// What an older workspace holds that its migration must keep, written at the schema `db` is
// open at: a label by `annotator` on the first clip, every clip's label history (into
// *history) and a model trained by a `recipe` run. *firstClip: that first clip's id.
bool addLabelAndModel(Database &db, const QString &annotator, const QString &recipe,
                      QList<LabelRecord> *history, qint64 *modelId, qint64 *firstClip)
{
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    const UtteranceRow first = corpora.utteranceRows().first();
    *firstClip = first.id;
    if (!labels
             .setLabel(first.id, corpora.corpus(first.corpusId)->labelSchemaId, annotator,
                       LabelValue::ofCategory(QStringLiteral("sad")))
             .ok())
        return false;
    for (const UtteranceRow &r : corpora.utteranceRows())
        *history << labels.history(r.id);
    ModelRepository models(db);
    TrainingRunRecord run;
    run.recipe = recipe;
    run.settings = QStringLiteral("{}");
    run.labelSnapshot = QStringLiteral("{}");
    run.device = QStringLiteral("cpu");
    if (!models.startRun(&run).ok())
        return false;
    ModelVersionRecord model;
    model.classes = {QStringLiteral("angry"), QStringLiteral("sad")};
    if (!models.storeTrainedModel(run.id, 3, {}, QByteArray("weights"), &model, {}, true).ok())
        return false;
    *modelId = model.id;
    return true;
}

// An older workspace's content: three clips named PREFIX0..2 (tones from `seed` on), a
// person's label and an active model (addLabelAndModel).
bool fillOldWorkspace(Database &old, const QString &folder, const QString &prefix, int seed,
                      Gender gender, const QString &annotator, QList<LabelRecord> *before,
                      qint64 *modelId, qint64 *firstClip)
{
    QList<ImportItem> items;
    for (int i = 0; i < 3; ++i)
        items << itemFor(
            writeClip(QDir(folder).filePath(prefix + QString::number(i) + QStringLiteral(".wav")),
                      seed + i),
            prefix + QString::number(i), QStringLiteral("s"), gender, QStringLiteral("sad"));
    ImportOutcome outcome;
    return CorpusRepository(old).applyImport(batchFor(folder, items), &outcome).ok() &&
           addLabelAndModel(old, annotator, QStringLiteral("baseline"), before, modelId, firstClip);
}

// A cross-validation run's record for the baseline recipe, as startRun takes it.
TrainingRunRecord evaluateRun()
{
    TrainingRunRecord run;
    run.kind = QStringLiteral("evaluate");
    run.recipe = QStringLiteral("baseline");
    run.settings = QStringLiteral("{}");
    run.labelSnapshot = QStringLiteral("{}");
    return run;
}

// Every label row of `before` is still there, the same, after a migration.
void expectLabelsKept(Database &db, const QList<LabelRecord> &before)
{
    LabelRepository labels(db);
    QList<LabelRecord> after;
    for (const UtteranceRow &r : CorpusRepository(db).utteranceRows())
        after << labels.history(r.id);
    QCOMPARE(after.size(), before.size());
    for (qsizetype i = 0; i < after.size(); ++i) {
        QCOMPARE(after[i].id, before[i].id);
        QCOMPARE(after[i].annotatorName, before[i].annotatorName);
        QVERIFY(after[i].value == before[i].value);
    }
}

} // namespace

void StoreTest::personsLabelSurvivesAnotherMapping()
{
    // The reported case: label a clip under the 4-class mapping, re-import the same folder
    // with the original labels, and the person's label must still be what the clip shows,
    // counts and exports.
    const QString path = workspace(QStringLiteral("remap"));
    QVERIFY(importRavdess(path, QStringLiteral("4class")));
    Database db(path);
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    const QList<UtteranceRow> rows = corpora.utteranceRows();
    QVERIFY(rows.size() >= 2);
    // A clip whose corpus label is not "sad", relabeled as sad by a person.
    UtteranceRow target;
    for (const UtteranceRow &r : rows)
        if (!r.label.isEmpty() && r.label != QLatin1String("sad"))
            target = r;
    QVERIFY(target.id != 0);
    const qint64 fourClass = corpora.corpus(target.corpusId)->labelSchemaId;
    QVERIFY(labels.setLabel(target.id, fourClass, QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("sad"))));
    const int sadBefore = labels.labelCounts().value(QStringLiteral("sad"));

    QVERIFY(importRavdess(path, QStringLiteral("original")));
    QVERIFY(corpora.corpus(target.corpusId)->labelSchemaId != fourClass); // the set changed
    const ShownLabel shown = labels.shownLabel(target.id);
    QCOMPARE(shown.category, QStringLiteral("sad"));
    QCOMPARE(shown.givenBy, QStringLiteral("ann"));
    QCOMPARE(shown.origin, LabelOrigin::Person);
    QVERIFY(shown.inLabelSet); // "sad" is a class of the original set too
    for (const UtteranceRow &r : corpora.utteranceRows())
        if (r.id == target.id) {
            QCOMPARE(r.label, QStringLiteral("sad"));
            QCOMPARE(r.labeledBy, QStringLiteral("ann"));
        }
    // Counted once, under the person's label (the original mapping has as many sad clips as
    // the 4-class one).
    QCOMPARE(labels.labelCounts().value(QStringLiteral("sad")), sadBefore);
    const QString csv = exportCsv(path, m_dir.filePath(QStringLiteral("remap.csv")));
    const QStringList lines = csv.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    QVERIFY(lines.first().startsWith(
        QStringLiteral("key,path,label,speaker,gender,duration,corpus,annotator,label_origin")));
    bool found = false;
    for (const QString &line : lines)
        if (line.startsWith(target.key + QLatin1Char(','))) {
            found = true;
            QVERIFY2(line.contains(QStringLiteral(",sad,")) &&
                         line.contains(QStringLiteral(",ann,person")),
                     qPrintable(line));
        }
    QVERIFY(found);
    // Corpus labels say so in the export.
    QVERIFY(csv.contains(QStringLiteral(",corpus:RAVDESS,corpus")) ||
            csv.contains(QStringLiteral(",corpus:ravdess,corpus")));

    // A person's label outside the corpus's current set is shown as given, and flagged.
    QVERIFY(labels.setLabel(target.id, corpora.corpus(target.corpusId)->labelSchemaId,
                            QStringLiteral("bea"),
                            LabelValue::ofCategory(QStringLiteral("bored"))));
    const ShownLabel flagged = labels.shownLabel(target.id);
    QCOMPARE(flagged.category, QStringLiteral("bored"));
    QVERIFY(!flagged.inLabelSet);
    QVERIFY(flagged.disagreement()); // ann says sad, bea says bored
    QCOMPARE(flagged.peopleCategories.size(), 2);
}

void StoreTest::dimensionsOnlyEditKeepsTheShownCategory()
{
    QTemporaryDir root;
    Database db(workspace(QStringLiteral("dims")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportBatch batch =
        batchFor(root.path(),
                 {itemFor(writeClip(root.filePath(QStringLiteral("d.wav")), 7), QStringLiteral("d"),
                          QStringLiteral("s"), Gender::Female, QStringLiteral("happy"))});
    batch.items[0].label.dimensions.insert(QStringLiteral("arousal"), 2.2);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(batch, &outcome));
    const qint64 id = corpora.utteranceRows().first().id;
    const qint64 schemaId = corpora.corpus(outcome.corpusId)->labelSchemaId;
    LabelRepository labels(db);
    // The corpus's arousal is what the clip shows before anyone moves a slider.
    QCOMPARE(labels.shownLabel(id).dimensions.value(QStringLiteral("arousal")), 2.2);

    LabelValue onlyArousal;
    onlyArousal.dimensions.insert(QStringLiteral("arousal"), 4.0);
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), onlyArousal));
    // The single-clip rule and the table's rule agree: the corpus's category stays shown.
    const ShownLabel one = labels.shownLabel(id);
    QCOMPARE(one.category, QStringLiteral("happy"));
    QCOMPARE(one.origin, LabelOrigin::Corpus);
    QCOMPARE(one.dimensions.value(QStringLiteral("arousal")), 4.0);
    const ShownLabel all = labels.shownLabels().value(id);
    QCOMPARE(all.category, one.category);
    QCOMPARE(all.dimensions, one.dimensions);
    QCOMPARE(corpora.utteranceRows().first().label, QStringLiteral("happy"));
    LabelRepository::ClipJudgements panel;
    QVERIFY(labels.judgements(id, QStringLiteral("ann"), &panel));
    QCOMPARE(panel.shown.category, QStringLiteral("happy"));
    QCOMPARE(panel.corpusLabel, QStringLiteral("happy"));
    QVERIFY(panel.mine.has_value());
    QCOMPARE(panel.mine->value, onlyArousal);
    QCOMPARE(panel.history.size(), 2);
}

void StoreTest::historySaysWhatChangedAndMarksUndo()
{
    QTemporaryDir root;
    Database db(workspace(QStringLiteral("changes")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(),
                 {itemFor(writeClip(root.filePath(QStringLiteral("c.wav")), 8), QStringLiteral("c"),
                          QStringLiteral("s"), Gender::Male, QString())}),
        &outcome));
    const qint64 id = corpora.utteranceRows().first().id;
    const qint64 schemaId = corpora.corpus(outcome.corpusId)->labelSchemaId;
    LabelRepository labels(db);
    LabelValue v = LabelValue::ofCategory(QStringLiteral("angry"));
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), v));
    v.notes = QStringLiteral("shouts");
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), v));
    v.confidence = 0.5;
    v.dimensions.insert(QStringLiteral("arousal"), 5);
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), v));
    LabelValue before = v;
    before.confidence = std::nan("");
    before.dimensions.clear();
    QVERIFY(
        labels.setLabel(id, schemaId, QStringLiteral("ann"), before, nullptr, LabelAction::Undo));
    const auto history = labels.history(id);
    QCOMPARE(history.size(), 4);
    QCOMPARE(history[0].changed, QStringList{QStringLiteral("category")});
    QCOMPARE(history[0].action, LabelAction::Edit);
    QCOMPARE(history[1].changed, QStringList{QStringLiteral("notes")});
    QCOMPARE(history[1].value.notes, QStringLiteral("shouts"));
    QCOMPARE(history[2].changed,
             (QStringList{QStringLiteral("arousal"), QStringLiteral("confidence")}));
    QCOMPARE(history[3].action, LabelAction::Undo);
    QCOMPARE(history[3].changed,
             (QStringList{QStringLiteral("arousal"), QStringLiteral("confidence")}));
    // The category and the note survived every partial change.
    QCOMPARE(labels.currentLabel(id, QStringLiteral("ann"))->value.category,
             QStringLiteral("angry"));
    QCOMPARE(labels.currentLabel(id, QStringLiteral("ann"))->value.notes, QStringLiteral("shouts"));
}

void StoreTest::personCannotSignInUnderACorpusName()
{
    QTemporaryDir root;
    Database db(workspace(QStringLiteral("names")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(),
                 {itemFor(writeClip(root.filePath(QStringLiteral("n.wav")), 9), QStringLiteral("n"),
                          QStringLiteral("s"), Gender::Male, QStringLiteral("sad"))}),
        &outcome));
    LabelRepository labels(db);
    const QString corpusName = LabelRepository::corpusAnnotatorName(QStringLiteral("toy"));
    QCOMPARE(labels.annotatorKind(corpusName), std::optional<AnnotatorKind>(AnnotatorKind::Corpus));
    const Status st = labels.setLabel(corpora.utteranceRows().first().id,
                                      corpora.corpus(outcome.corpusId)->labelSchemaId, corpusName,
                                      LabelValue::ofCategory(QStringLiteral("happy")));
    QVERIFY(!st);
    QVERIFY2(st.error().contains(corpusName), qPrintable(st.error()));
    QCOMPARE(labels.shownLabel(corpora.utteranceRows().first().id).category, QStringLiteral("sad"));
}

void StoreTest::migrationFromSchema3KeepsEveryLabel()
{
    SQLITE_ONLY("the schema-3 fixture is an SQLite file")
    // tests/fixtures/workspace-v3.emolens was written by the schema-3 emolens-cli (see
    // tests/fixtures/README.md): RAVDESS imported as 4class, a person's "sad" on a neutral
    // clip and a dimensions-only label, then re-imported with the original mapping - the
    // state in which the old rule hid the person's label.
    const QString path = m_dir.filePath(QStringLiteral("from-v3.emolens"));
    QVERIFY(QFile::copy(test::sourceRoot() + QStringLiteral("/tests/fixtures/workspace-v3.emolens"),
                        path));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    int labelsBefore = 0;
    {
        const QString connection = QStringLiteral("v3-peek");
        {
            QSqlDatabase raw = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
            raw.setDatabaseName(path);
            QVERIFY(raw.open());
            QSqlQuery q(raw);
            QVERIFY(q.exec(QStringLiteral("PRAGMA user_version")) && q.next());
            QCOMPARE(q.value(0).toInt(), 3);
            QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM labels")) && q.next());
            labelsBefore = q.value(0).toInt();
            raw.close();
        }
        QSqlDatabase::removeDatabase(connection);
    }
    QCOMPARE(labelsBefore, 20);
    Database db(path);
    QVERIFY(db.open());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM labels")).toInt(), labelsBefore);
    LabelRepository labels(db);
    QCOMPARE(labels.annotatorKind(QStringLiteral("ann")),
             std::optional<AnnotatorKind>(AnnotatorKind::Person));
    QCOMPARE(labels.annotatorKind(QStringLiteral("corpus:RAVDESS")),
             std::optional<AnnotatorKind>(AnnotatorKind::Corpus));
    CorpusRepository corpora(db);
    int personRows = 0;
    for (const UtteranceRow &r : corpora.utteranceRows()) {
        if (r.key == QLatin1String("03-01-01-01-01-01-01")) {
            QCOMPARE(r.label, QStringLiteral("sad")); // the person's label is back
            QCOMPARE(r.labeledBy, QStringLiteral("ann"));
            ++personRows;
        } else {
            QCOMPARE(r.labelOrigin, LabelOrigin::Corpus);
        }
    }
    QCOMPARE(personRows, 1);
    const auto dimsOnly = labels.currentLabel(3, QStringLiteral("ann"));
    QVERIFY(dimsOnly.has_value());
    QCOMPARE(labels.shownLabel(3).dimensions.value(QStringLiteral("arousal")), 4.0);
    QCOMPARE(labels.shownLabel(3).origin, LabelOrigin::Corpus); // its category is the corpus's
    if (!test::onPostgres())
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(),
                 QStringLiteral("ok"));
}

void StoreTest::schema4WorkspaceKeepsEveryLabel()
{
    SQLITE_ONLY("the schema-3 fixture is an SQLite file")
    // A workspace as the previous version (schema 4) wrote it: the committed schema-3 fixture
    // migrated only that far, and a label added at schema 4.
    const QString path = m_dir.filePath(QStringLiteral("schema4.emolens"));
    QVERIFY(QFile::copy(test::sourceRoot() + QStringLiteral("/tests/fixtures/workspace-v3.emolens"),
                        path));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QList<LabelRecord> before;
    QHash<qint64, ShownLabel> shownBefore;
    {
        Database v4(path);
        QVERIFY(v4.open(4).ok());
        QCOMPARE(v4.schemaVersion(), 4);
        CorpusRepository corpora(v4);
        LabelRepository labels(v4);
        const UtteranceRow first = corpora.utteranceRows().first();
        QVERIFY(labels
                    .setLabel(first.id, corpora.corpus(first.corpusId)->labelSchemaId,
                              QStringLiteral("v4 annotator"),
                              LabelValue::ofCategory(QStringLiteral("angry")))
                    .ok());
        for (const UtteranceRow &r : corpora.utteranceRows())
            before << labels.history(r.id);
        shownBefore = labels.shownLabels();
    }
    QVERIFY(before.size() > 20);

    Database db(path);
    QVERIFY(db.open().ok());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    expectLabelsKept(db, before);
    const QHash<qint64, ShownLabel> shownAfter = labels.shownLabels();
    QCOMPARE(shownAfter.size(), shownBefore.size());
    for (auto it = shownBefore.cbegin(); it != shownBefore.cend(); ++it) {
        QCOMPARE(shownAfter.value(it.key()).category, it->category);
        QCOMPARE(shownAfter.value(it.key()).givenBy, it->givenBy);
    }
    // The new tables are there and empty.
    ModelRepository models(db);
    QVERIFY(models.runs().isEmpty());
    QVERIFY(!models.activeModel().has_value());
    if (!test::onPostgres())
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(),
                 QStringLiteral("ok"));
}

void StoreTest::twoProcessesMigratingAtOnceBothOpen()
{
    SQLITE_ONLY("the schema-3 fixture is an SQLite file")
    // Two openers read schema 3 while a third connection holds the write lock; when it frees,
    // both go on. The one that migrates second must see schema 4 and do nothing (before,
    // it re-ran the migration and failed on a duplicate column).
    const QString path = m_dir.filePath(QStringLiteral("race.emolens"));
    QVERIFY(QFile::copy(test::sourceRoot() + QStringLiteral("/tests/fixtures/workspace-v3.emolens"),
                        path));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QStringList errors = twoAtOnceBehindTheLock(path, [&path] {
        Database db(path);
        return db.open();
    });
    QCOMPARE(errors, (QStringList{QString(), QString()}));
    Database db(path);
    QVERIFY(db.open());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
}

void StoreTest::trainingRunsModelsAndPredictions()
{
    Database db(workspace(QStringLiteral("models")));
    QVERIFY(db.open());
    QTemporaryDir root;
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(),
                 {itemFor(writeClip(root.filePath(QStringLiteral("a.wav")), 1), QStringLiteral("a"),
                          QStringLiteral("s"), Gender::Male, QStringLiteral("sad"))}),
        &outcome));
    const qint64 clip = corpora.utteranceRows().first().id;
    const QString hash = corpora.utterance(clip)->contentHash;

    ModelRepository models(db);
    TrainingRunRecord run;
    run.recipe = QStringLiteral("baseline");
    run.settings = QStringLiteral("{}");
    run.labelSnapshot = QStringLiteral("{}");
    run.device = QStringLiteral("cpu");
    QVERIFY(models.startRun(&run).ok());
    QVERIFY(models.addEpoch(run.id, {0, 1, 1.2, 1.3, 0.4, 2.0}).ok());
    QVERIFY(models.addEpoch(run.id, {0, 2, 0.9, 1.1, 0.6, 2.0}).ok());
    QCOMPARE(models.epochs(run.id).size(), 2);
    // This process is alive: its running run is not interrupted... unless it is this process's
    // own leftover (a run the program is not running any more is marked at open).
    int marked = -1;
    QVERIFY(models.markInterruptedRuns(&marked).ok());
    QCOMPARE(marked, 1);
    QCOMPARE(models.run(run.id)->status, QStringLiteral("interrupted"));

    TrainingRunRecord second = run;
    QVERIFY(models.startRun(&second).ok());
    MetricsRow validation;
    validation.n = 10;
    validation.ua = 0.7;
    validation.labels = {QStringLiteral("happy"), QStringLiteral("sad")};
    validation.confusion = {{4, 1}, {2, 3}};
    ModelVersionRecord model;
    model.classes = validation.labels;
    PredictionRow prediction{clip, hash, QStringLiteral("sad"), 0.8, {0.2f, 0.8f}};
    QVERIFY(models
                .storeTrainedModel(second.id, 12.5, {validation}, QByteArray("weights"), &model,
                                   {prediction}, true)
                .ok());
    QVERIFY(model.id > 0);
    QCOMPARE(models.run(second.id)->status, QStringLiteral("succeeded"));
    const auto active = models.activeModel();
    QVERIFY(active.has_value());
    QCOMPARE(active->id, model.id);
    QCOMPARE(active->validationUa, 0.7);
    QCOMPARE(active->recipe, QStringLiteral("baseline"));
    QCOMPARE(models.weights(model.id), QByteArray("weights"));
    QCOMPARE(models.metrics(second.id).first().confusion, validation.confusion);
    const auto predictions = models.predictions(model.id);
    QCOMPARE(predictions.size(), 1);
    QCOMPARE(predictions.value(clip).probabilities, (std::vector<float>{0.2f, 0.8f}));

    // The audio changes: the prediction is stale and no longer returned.
    QSqlQuery q(db.connection());
    QVERIFY(q.exec(QStringLiteral("UPDATE utterances SET content_hash='changed'")));
    QVERIFY(models.predictions(model.id).isEmpty());
    QVERIFY(models.removeModel(model.id).ok());
    QVERIFY(!models.activeModel().has_value());
}

void StoreTest::selectionRoundsAndSimulationsAreStored()
{
    // Active learning's rounds: the pool snapshot and the ranked picks come back as stored,
    // newest round first; deleting a clip drops its pick, deleting the round its picks.
    QTemporaryDir root;
    QList<ImportItem> items;
    for (int i = 0; i < 4; ++i)
        items << itemFor(writeClip(root.filePath(QStringLiteral("r%1.wav").arg(i)), i),
                         QStringLiteral("r%1").arg(i), QStringLiteral("s%1").arg(i % 2),
                         Gender::Female, QStringLiteral("angry"));
    Database db(workspace(QStringLiteral("rounds")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome imported;
    QVERIFY(corpora.applyImport(batchFor(root.path(), items), &imported));
    QList<qint64> ids;
    for (const UtteranceRow &row : corpora.utteranceRows())
        ids << row.id;
    QCOMPARE(ids.size(), 4);

    SelectionRepository rounds(db);
    QVERIFY(!rounds.latestRound().has_value());
    SelectionRoundRecord cold;
    cold.strategy = QStringLiteral("cold-start");
    cold.settings = QStringLiteral(R"({"count":2})");
    cold.poolSize = 4;
    cold.pool = ids;
    cold.seconds = 0.25;
    QList<SelectionPickRecord> picks;
    for (int rank = 1; rank <= 2; ++rank) {
        SelectionPickRecord p;
        p.rank = rank;
        p.utteranceId = ids[rank];
        p.score = 0.5 * rank;
        p.reason = QStringLiteral("near the centre of cluster %1 of 2").arg(rank);
        picks << p;
    }
    QVERIFY(rounds.addRound(&cold, picks).ok());
    QVERIFY(cold.id > 0);
    SelectionRoundRecord margin = cold;
    margin.strategy = QStringLiteral("margin");
    margin.labeledCount = 2;
    margin.pool = {ids[0], ids[3]};
    SelectionPickRecord p;
    p.rank = 1;
    p.utteranceId = ids[3];
    p.score = 0.04;
    p.reason = QStringLiteral("margin 0.04 between angry and neutral");
    p.predicted = QStringLiteral("angry");
    p.confidence = 0.48;
    QVERIFY(rounds.addRound(&margin, {p}).ok());

    const auto latest = rounds.latestRound();
    QVERIFY(latest.has_value());
    QCOMPARE(latest->id, margin.id);
    QCOMPARE(latest->strategy, QStringLiteral("margin"));
    QCOMPARE(latest->labeledCount, 2);
    QCOMPARE(latest->pool, (QList<qint64>{ids[0], ids[3]}));
    QCOMPARE(rounds.round(cold.id)->pool, ids);
    QCOMPARE(rounds.round(cold.id)->settings, cold.settings);
    QCOMPARE(rounds.round(cold.id)->seconds, 0.25);
    QCOMPARE(rounds.rounds().size(), 2);
    QCOMPARE(rounds.rounds().first().id, margin.id);
    const QList<SelectionPickRecord> back = rounds.picks(margin.id);
    QCOMPARE(back.size(), 1);
    QCOMPARE(back[0].utteranceId, ids[3]);
    QCOMPARE(back[0].reason, p.reason);
    QCOMPARE(back[0].predicted, QStringLiteral("angry"));
    QCOMPARE(back[0].confidence, 0.48);
    QCOMPARE(rounds.picks(cold.id)[1].score, 1.0);

    QSqlQuery q(db.connection());
    QVERIFY(q.exec(QStringLiteral("DELETE FROM utterances WHERE id=%1").arg(ids[1])));
    QCOMPARE(rounds.picks(cold.id).size(), 1);
    QVERIFY(rounds.deleteRound(cold.id).ok());
    QCOMPARE(rounds.rounds().size(), 1);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM selection_picks")).toInt(), 1);

    SimulationRecord curve;
    curve.strategy = QStringLiteral("margin");
    curve.recipe = QStringLiteral("baseline");
    curve.encoder = QStringLiteral("fbank");
    curve.seed = 3;
    curve.report = QStringLiteral(R"({"full_ua":0.8,"rounds":[]})");
    QVERIFY(rounds.addSimulation(&curve).ok());
    QVERIFY(curve.id > 0);
    const QList<SimulationRecord> curves = rounds.simulations();
    QCOMPARE(curves.size(), 1);
    QCOMPARE(curves[0].seed, 3);
    QCOMPARE(curves[0].report, curve.report);
    QVERIFY(rounds.deleteSimulation(curve.id).ok());
    QVERIFY(rounds.simulations().isEmpty());
}

void StoreTest::pretrainedBackbonesAreStoredWithTheirRun()
{
    Database db(workspace(QStringLiteral("backbones")));
    QVERIFY(db.open());
    ModelRepository models(db);
    TrainingRunRecord run;
    run.kind = QStringLiteral("pretrain");
    run.recipe = QStringLiteral("adapter-tapt");
    run.settings = QStringLiteral("{}");
    run.labelSnapshot = QStringLiteral("{}");
    run.device = QStringLiteral("cpu");
    QVERIFY(models.startRun(&run).ok());
    BackboneRecord first;
    first.backbone = QStringLiteral("encoder=1x80 extra=3 width=256");
    first.acousticInputs = true;
    first.clips = 96;
    first.history = QStringLiteral("[]");
    QVERIFY(models.storeBackbone(run.id, 80.5, QByteArray("first"), &first).ok());
    QVERIFY(first.id > 0);
    QCOMPARE(models.run(run.id)->status, QStringLiteral("succeeded"));
    QCOMPARE(models.run(run.id)->seconds, 80.5);

    TrainingRunRecord again = run;
    QVERIFY(models.startRun(&again).ok());
    BackboneRecord second = first;
    QVERIFY(models.storeBackbone(again.id, 10, QByteArray("second"), &second).ok());
    const QList<BackboneRecord> all = models.backbones();
    QCOMPARE(all.size(), 2);
    QCOMPARE(all.first().id, second.id); // newest first
    const auto stored = models.backbone(first.id);
    QVERIFY(stored.has_value());
    QCOMPARE(stored->runId, run.id);
    QCOMPARE(stored->mode, QStringLiteral("adapter"));
    QVERIFY(stored->acousticInputs);
    QCOMPARE(stored->backbone, first.backbone);
    QCOMPARE(stored->clips, 96);
    QCOMPARE(stored->seconds, 80.5);
    QCOMPARE(stored->weightsHash, first.weightsHash);
    QCOMPARE(models.backboneWeights(first.id), QByteArray("first"));
    QVERIFY(!models.backbone(999).has_value());
    QVERIFY(models.backboneWeights(999).isEmpty());
    // Deleting the run deletes its backbone.
    QSqlQuery q(db.connection());
    QVERIFY(q.exec(QStringLiteral("DELETE FROM training_runs WHERE id=%1").arg(run.id)));
    QCOMPARE(models.backbones().size(), 1);
    // Deleting a backbone keeps its run.
    QVERIFY(models.removeBackbone(second.id));
    QVERIFY(models.backbones().isEmpty());
    QVERIFY(models.run(again.id).has_value());
}

void StoreTest::mapLayoutsAreStoredAndTheNewestKept()
{
    // t-SNE layouts (schema 8): positions with their settings and fingerprint, read back
    // exactly; a source keeps its newest five; lists leave the points out.
    Database db(workspace(QStringLiteral("layouts")));
    QVERIFY(db.open().ok());
    AnalysisRepository maps(db);
    QVERIFY(!maps.latestLayout().has_value());
    QList<qint64> ids;
    for (int i = 0; i < 7; ++i) {
        MapLayoutRecord layout;
        layout.source = QStringLiteral("encoder:fbank:1");
        layout.settings = QStringLiteral("{\"perplexity\":%1}").arg(i + 5);
        layout.fingerprint = QStringLiteral("fp%1").arg(i);
        layout.points = {{11, 0.5f, -1.25f}, {12, 3.0e6f, -0.0f}, {9000000000LL, -7.5f, 1e-7f}};
        layout.trustworthiness = i == 0 ? -1 : 0.9 + i / 100.0;
        layout.seconds = i;
        QVERIFY(maps.addLayout(&layout).ok());
        QVERIFY(layout.id > 0);
        QVERIFY(layout.createdAt.isValid());
        ids << layout.id;
    }
    MapLayoutRecord other;
    other.source = QStringLiteral("model:3");
    other.settings = QStringLiteral("{}");
    other.fingerprint = QStringLiteral("fp-model");
    other.points = {{11, 1, 2}};
    QVERIFY(maps.addLayout(&other).ok());

    const QList<MapLayoutRecord> listed = maps.layouts();
    QCOMPARE(listed.size(), AnalysisRepository::kKeptPerSource + 1);
    QCOMPARE(listed.first().id, other.id);
    QVERIFY(listed.first().points.empty());
    QCOMPARE(listed.first().pointCount, 1);
    QVERIFY(!maps.layout(ids[0]).has_value()); // the oldest two were dropped
    QVERIFY(!maps.layout(ids[1]).has_value());
    const auto latest = maps.latestLayout(QStringLiteral("encoder:fbank:1"));
    QVERIFY(latest.has_value());
    QCOMPARE(latest->id, ids.last());
    QCOMPARE(latest->settings, QStringLiteral("{\"perplexity\":11}"));
    QCOMPARE(latest->trustworthiness, 0.96);
    QCOMPARE(latest->points.size(), std::size_t(3));
    QCOMPARE(latest->points[1].x, 3.0e6f);
    QCOMPARE(latest->points[2].utteranceId, 9000000000LL);
    QCOMPARE(latest->points[2].y, 1e-7f);
    QCOMPARE(maps.latestLayout()->id, other.id);
    const auto byPrint = maps.layoutWithFingerprint(QStringLiteral("fp3"));
    QVERIFY(byPrint.has_value());
    QCOMPARE(byPrint->id, ids[3]);
    QCOMPARE(byPrint->points[0].x, 0.5f);
    QVERIFY(!maps.layoutWithFingerprint(QStringLiteral("fp0")).has_value());
    QVERIFY(maps.deleteLayout(other.id).ok());
    QVERIFY(!maps.layout(other.id).has_value());
}

void StoreTest::schema5WorkspaceKeepsEveryLabelAndModel()
{
    SQLITE_ONLY("the schema-3 fixture is an SQLite file")
    // A workspace as the previous version (schema 5) wrote it: the committed schema-3 fixture
    // migrated that far, a label and a trained model added at schema 5.
    const QString path = m_dir.filePath(QStringLiteral("schema5.emolens"));
    QVERIFY(QFile::copy(test::sourceRoot() + QStringLiteral("/tests/fixtures/workspace-v3.emolens"),
                        path));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QList<LabelRecord> before;
    qint64 modelId = 0;
    {
        Database v5(path);
        QVERIFY(v5.open(5).ok());
        QCOMPARE(v5.schemaVersion(), 5);
        qint64 firstClip = 0;
        QVERIFY(addLabelAndModel(v5, QStringLiteral("v5 annotator"), QStringLiteral("wap-sap"),
                                 &before, &modelId, &firstClip));
    }
    QVERIFY(before.size() > 20);

    Database db(path);
    QVERIFY(db.open().ok());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    expectLabelsKept(db, before);
    // The model and its run are kept; the new table is there and empty.
    ModelRepository models(db);
    QCOMPARE(models.activeModel().value_or(ModelVersionRecord()).id, modelId);
    QCOMPARE(models.weights(modelId), QByteArray("weights"));
    QVERIFY(models.backbones().isEmpty());
    if (!test::onPostgres())
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(),
                 QStringLiteral("ok"));
}

void StoreTest::schema7WorkspaceKeepsEveryLabelModelAndRound()
{
    SQLITE_ONLY("the schema-3 fixture is an SQLite file")
    // A workspace as the previous version (schema 7) wrote it: the committed schema-3 fixture
    // migrated that far, with a person's label, a trained model and a queue round added at
    // schema 7. Opened now, it gains map_layouts and loses nothing.
    const QString path = m_dir.filePath(QStringLiteral("schema7.emolens"));
    QVERIFY(QFile::copy(test::sourceRoot() + QStringLiteral("/tests/fixtures/workspace-v3.emolens"),
                        path));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QList<LabelRecord> before;
    qint64 modelId = 0, roundId = 0;
    {
        Database v7(path);
        QVERIFY(v7.open(7).ok());
        QCOMPARE(v7.schemaVersion(), 7);
        qint64 firstClip = 0;
        QVERIFY(addLabelAndModel(v7, QStringLiteral("v7 annotator"), QStringLiteral("baseline"),
                                 &before, &modelId, &firstClip));
        SelectionRoundRecord round;
        round.modelId = modelId;
        round.strategy = QStringLiteral("margin");
        round.settings = QStringLiteral("{}");
        round.pool = {firstClip};
        round.poolSize = 1;
        QVERIFY(SelectionRepository(v7)
                    .addRound(&round, {{1, firstClip, 0.1, QStringLiteral("margin 0.10"),
                                        QStringLiteral("sad"), 0.6}})
                    .ok());
        roundId = round.id;
    }
    QVERIFY(before.size() > 20);

    Database db(path);
    QVERIFY(db.open().ok());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    expectLabelsKept(db, before);
    ModelRepository models(db);
    QCOMPARE(models.activeModel().value_or(ModelVersionRecord()).id, modelId);
    QCOMPARE(models.weights(modelId), QByteArray("weights"));
    SelectionRepository rounds(db);
    QCOMPARE(rounds.latestRound().value_or(SelectionRoundRecord()).id, roundId);
    QCOMPARE(rounds.picks(roundId).size(), 1);
    // The new table is there, empty, and takes a layout.
    AnalysisRepository maps(db);
    QVERIFY(maps.layouts().isEmpty());
    MapLayoutRecord layout;
    layout.source = QStringLiteral("encoder:fbank:0");
    layout.settings = QStringLiteral("{}");
    layout.fingerprint = QStringLiteral("fp");
    layout.points = {{corpora.utteranceRows().first().id, 1, 2}};
    QVERIFY(maps.addLayout(&layout).ok());
    if (!test::onPostgres())
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(),
                 QStringLiteral("ok"));
}

void StoreTest::schema8WorkspaceKeepsEveryLabelModelAndMap()
{
    SQLITE_ONLY("the schema-3 fixture is an SQLite file")
    // A workspace as the previous version (schema 8) wrote it: the committed schema-3 fixture
    // migrated that far, with a person's label, a trained model and a stored t-SNE layout added
    // at schema 8. Opened now, it gains the traces table and loses nothing.
    const QString path = m_dir.filePath(QStringLiteral("schema8.emolens"));
    QVERIFY(QFile::copy(test::sourceRoot() + QStringLiteral("/tests/fixtures/workspace-v3.emolens"),
                        path));
    QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    QList<LabelRecord> before;
    qint64 modelId = 0, layoutId = 0, firstClip = 0;
    {
        Database v8(path);
        QVERIFY(v8.open(8).ok());
        QCOMPARE(v8.schemaVersion(), 8);
        QVERIFY(addLabelAndModel(v8, QStringLiteral("v8 annotator"), QStringLiteral("baseline"),
                                 &before, &modelId, &firstClip));
        MapLayoutRecord layout;
        layout.source = QStringLiteral("encoder:fbank:0");
        layout.settings = QStringLiteral("{}");
        layout.fingerprint = QStringLiteral("fp");
        layout.points = {{firstClip, 1, 2}};
        QVERIFY(AnalysisRepository(v8).addLayout(&layout).ok());
        layoutId = layout.id;
    }
    QVERIFY(before.size() > 20);

    Database db(path);
    QVERIFY(db.open().ok());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    CorpusRepository corpora(db);
    LabelRepository labels(db);
    expectLabelsKept(db, before);
    ModelRepository models(db);
    QCOMPARE(models.activeModel().value_or(ModelVersionRecord()).id, modelId);
    QCOMPARE(models.weights(modelId), QByteArray("weights"));
    const auto layout = AnalysisRepository(db).layout(layoutId);
    QVERIFY(layout.has_value());
    QCOMPARE(layout->points.size(), std::size_t(1));
    // The new table is there, empty, takes a trace and refuses to change it.
    TraceRepository traces(db);
    QList<TraceRecord> stored;
    QVERIFY(traces.allCurrentTraces(0, &stored).ok());
    QVERIFY(stored.isEmpty());
    TraceRecord trace;
    trace.utteranceId = firstClip;
    trace.annotatorName = QStringLiteral("v8 annotator");
    trace.dimension = QStringLiteral("arousal");
    trace.samples = {0.1f, 0.2f};
    QVERIFY(traces.addTrace(&trace).ok());
    QSqlQuery q(db.connection());
    QVERIFY(!q.exec(QStringLiteral("UPDATE traces SET dimension='valence'")));
    if (!test::onPostgres())
        QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(),
                 QStringLiteral("ok"));
}

void StoreTest::refusesAnotherProgramsDatabase()
{
    if (test::onPostgres()) {
        const QString url = workspace(QStringLiteral("other_program"));
        const QString database = test::databaseOf(url);
        QCOMPARE(test::runOnServer(QStringLiteral("CREATE TABLE bookmarks(url TEXT)"), database),
                 QString());
        Database db(url);
        const Status st = db.open();
        QVERIFY(!st);
        QVERIFY2(st.error().contains(QStringLiteral("not an EmoLens workspace")) &&
                     st.error().contains(database),
                 qPrintable(st.error()));
        // Nothing was added to the other program's database.
        QVariant tables;
        QCOMPARE(test::runOnServer(QStringLiteral("SELECT count(*) FROM information_schema.tables "
                                                  "WHERE table_schema='public'"),
                                   database, &tables),
                 QString());
        QCOMPARE(tables.toInt(), 1);
        return;
    }
    const QString path = m_dir.filePath(QStringLiteral("other-program.sqlite"));
    const QString connection = QStringLiteral("other-program");
    {
        QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        other.setDatabaseName(path);
        QVERIFY(other.open());
        QSqlQuery q(other);
        QVERIFY(q.exec(QStringLiteral("CREATE TABLE bookmarks(url TEXT)")));
        QVERIFY(q.exec(QStringLiteral("INSERT INTO bookmarks VALUES('https://example.org')")));
        other.close();
    }
    QSqlDatabase::removeDatabase(connection);
    Database db(path);
    const Status st = db.open();
    QVERIFY(!st);
    QVERIFY2(st.error().contains(QStringLiteral("not an EmoLens workspace")),
             qPrintable(st.error()));
    // Nothing was added to the other program's file.
    {
        QSqlDatabase other = QSqlDatabase::addDatabase(QStringLiteral("QSQLITE"), connection);
        other.setDatabaseName(path);
        QVERIFY(other.open());
        QSqlQuery q(other);
        QVERIFY(q.exec(QStringLiteral("SELECT count(*) FROM sqlite_master")) && q.next());
        QCOMPARE(q.value(0).toInt(), 1);
        other.close();
    }
    QSqlDatabase::removeDatabase(connection);
}

void StoreTest::twoConnectionsAddTheSameEncoderAtOnce()
{
    // Both look the encoder up while a third connection holds the write lock, then both add
    // it: one row, the same id for both, and no error (before, the second insert failed on
    // the unique identity).
    const QString path = workspace(QStringLiteral("encoders"));
    {
        Database db(path);
        QVERIFY(db.open());
    }
    QList<qint64> ids;
    QMutex idsLock;
    const QStringList errors = twoAtOnceBehindTheLock(path, [&] {
        Database db(path);
        Status st = db.open();
        EncoderRecord record;
        record.identity = QStringLiteral("hubert-abc123");
        record.name = QStringLiteral("hubert-base");
        record.source = QStringLiteral("/models/hubert-base");
        record.modelType = QStringLiteral("hubert");
        record.layerCount = 13;
        record.hiddenSize = 768;
        record.framesPerSecond = 50;
        if (st)
            st = FeatureRepository(db).addEncoder(&record);
        QMutexLocker locker(&idsLock);
        ids << record.id;
        return st;
    });
    QCOMPARE(errors, (QStringList{QString(), QString()}));
    QCOMPARE(ids.size(), 2);
    QVERIFY(ids[0] > 0);
    QCOMPARE(ids[0], ids[1]);
    Database db(path);
    QVERIFY(db.open());
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM encoders")).toInt(), 1);
}

void StoreTest::speakersComeInNaturalOrder()
{
    QTemporaryDir root;
    Database db(workspace(QStringLiteral("speakers")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    QList<ImportItem> items;
    int seed = 20;
    for (const char *speaker : {"spk10", "spk2", "spk1"}) {
        const QString code = QString::fromLatin1(speaker);
        items << itemFor(writeClip(root.filePath(code + QStringLiteral(".wav")), ++seed), code,
                         code, Gender::Female, QStringLiteral("sad"));
    }
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(batchFor(root.path(), items), &outcome));
    QStringList codes;
    for (const SpeakerRecord &s : corpora.speakers(outcome.corpusId))
        codes << s.code;
    QCOMPARE(codes, (QStringList{QStringLiteral("spk1"), QStringLiteral("spk2"),
                                 QStringLiteral("spk10")}));
    QStringList keys;
    for (const UtteranceRow &r : corpora.utteranceRows(outcome.corpusId))
        keys << r.key;
    QCOMPARE(keys, codes); // the rows the tree and table get, in the same order
}

void StoreTest::unreadableTablesAreErrorsNotEmptyResults()
{
    QTemporaryDir root;
    const QString path = workspace(QStringLiteral("damaged"));
    Database db(path);
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(), {itemFor(writeClip(root.filePath(QStringLiteral("e.wav")), 30),
                                       QStringLiteral("e"), QStringLiteral("s"), Gender::Male,
                                       QStringLiteral("sad"))}),
        &outcome));
    // Damage the file as a careless script might: two tables gone.
    QSqlQuery q(db.connection());
    QVERIFY(q.exec(QStringLiteral("DROP TABLE utterance_metadata")));
    QVERIFY(q.exec(QStringLiteral("ALTER TABLE speakers RENAME TO speakers_gone")));

    QList<UtteranceRow> rows;
    const Status rowsRead = corpora.utteranceRows(0, &rows);
    QVERIFY(!rowsRead);
    QVERIFY2(rowsRead.error().contains(QStringLiteral("speakers")), qPrintable(rowsRead.error()));
    QList<UtteranceRecord> utterances;
    const Status read = corpora.utterances(0, &utterances);
    QVERIFY(!read);
    QVERIFY2(read.error().contains(QStringLiteral("utterance_metadata")), qPrintable(read.error()));
    // An export says so and writes nothing, rather than an empty file that looks fine.
    const QString out = m_dir.filePath(QStringLiteral("damaged.csv"));
    ExportRequest request;
    request.format = QStringLiteral("csv");
    request.outPath = out;
    SilentProgress quiet;
    QVERIFY(!CorpusExporter::run(db, request, quiet));
    QVERIFY(!QFileInfo::exists(out));
}

void StoreTest::aLabelWrittenTwiceWithItsKeyIsStoredOnce()
{
    QTemporaryDir root;
    Database db(workspace(QStringLiteral("keys")));
    QVERIFY(db.open());
    CorpusRepository corpora(db);
    ImportOutcome outcome;
    QVERIFY(corpora.applyImport(
        batchFor(root.path(),
                 {itemFor(writeClip(root.filePath(QStringLiteral("k.wav")), 31),
                          QStringLiteral("k"), QStringLiteral("s"), Gender::Male, QString())}),
        &outcome));
    const qint64 id = corpora.utteranceRows().first().id;
    const qint64 schemaId = corpora.corpus(outcome.corpusId)->labelSchemaId;
    LabelRepository labels(db);
    const QString key = QStringLiteral("6f1c1f5e-2d0b-4a7e-9f3a-0c6f1b2a9d11");
    qint64 first = 0, again = 0, unkeyed = 0;
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("sad")), &first,
                            LabelAction::Edit, key));
    // The same edit again - a journal replayed after a write whose reply was lost.
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("sad")), &again,
                            LabelAction::Edit, key));
    QCOMPARE(again, first);
    QCOMPARE(labels.history(id).size(), 1);
    // Labels without a key (imports, older programs) are never taken for one another.
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("angry")), &unkeyed));
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"),
                            LabelValue::ofCategory(QStringLiteral("happy"))));
    QCOMPARE(labels.history(id).size(), 3);
    QVERIFY(unkeyed > first);
    // The store itself refuses a second row with the key.
    QSqlQuery q(db.connection());
    QVERIFY(!q.exec(QStringLiteral("INSERT INTO labels(utterance_id, schema_id, annotator_id, "
                                   "created_at, client_key) SELECT utterance_id, schema_id, "
                                   "annotator_id, created_at, client_key FROM labels WHERE "
                                   "id=%1")
                        .arg(first)));
    QCOMPARE(labels.history(id).size(), 3);
}

void StoreTest::schema9WorkspaceKeepsEveryLabelModelAndTrace()
{
    // A workspace as the previous version (schema 9) wrote it - on this run's backend: a
    // corpus, a person's label, a trained model and a trace. Opened now, it gains client keys,
    // clip claims and shared settings, and loses nothing.
    QTemporaryDir root;
    const QString location = workspace(QStringLiteral("schema9"));
    QList<LabelRecord> before;
    qint64 modelId = 0, firstClip = 0;
    {
        Database v9(location);
        QVERIFY(v9.open(9).ok());
        QCOMPARE(v9.schemaVersion(), 9);
        QVERIFY(fillOldWorkspace(v9, root.path(), QStringLiteral("m"), 40, Gender::Female,
                                 QStringLiteral("v9 annotator"), &before, &modelId, &firstClip));
        TraceRecord trace;
        trace.utteranceId = firstClip;
        trace.annotatorName = QStringLiteral("v9 annotator");
        trace.dimension = QStringLiteral("valence");
        trace.samples = {0.5f, -0.25f};
        QVERIFY(TraceRepository(v9).addTrace(&trace).ok());
    }
    QCOMPARE(before.size(), 4); // three corpus labels and the person's

    Database db(location);
    QVERIFY(db.open().ok());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    expectLabelsKept(db, before);
    LabelRepository labels(db);
    QCOMPARE(
        scalar(db, QStringLiteral("SELECT count(*) FROM labels WHERE client_key IS NULL")).toInt(),
        4);
    QCOMPARE(ModelRepository(db).activeModel().value_or(ModelVersionRecord()).id, modelId);
    QList<TraceRecord> traces;
    QVERIFY(TraceRepository(db).allCurrentTraces(0, &traces).ok());
    QCOMPARE(traces.size(), 1);
    QCOMPARE(traces.first().samples, (std::vector<float>{0.5f, -0.25f}));
    // The new parts work: a keyed label, a claim, a shared setting.
    QVERIFY(labels.setLabel(firstClip, CorpusRepository(db).corpora().first().labelSchemaId,
                            QStringLiteral("v9 annotator"),
                            LabelValue::ofCategory(QStringLiteral("happy")), nullptr,
                            LabelAction::Edit, QStringLiteral("key-after-migration")));
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM labels WHERE client_key IS NOT NULL"))
                 .toInt(),
             1);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM clip_claims")).toInt(), 0);
    QCOMPARE(scalar(db, QStringLiteral("SELECT count(*) FROM workspace_settings")).toInt(), 0);
}

void StoreTest::schema10WorkspaceKeepsItsLabelsAndCrossValidations()
{
    // A workspace as the previous version (schema 10) wrote it - on this run's backend: a
    // corpus, a person's label, a model and a cross-validation run with its matrices but no
    // clips. Opened now, it keeps them all; the old run says it lists no clips, and a new run
    // keeps its clips.
    QTemporaryDir root;
    const QString location = workspace(QStringLiteral("schema10"));
    QList<LabelRecord> before;
    qint64 modelId = 0, firstClip = 0, oldRun = 0;
    MetricsRow pooled;
    pooled.fold = 0;
    pooled.split = QStringLiteral("test");
    pooled.n = 3;
    pooled.labels = {QStringLiteral("angry"), QStringLiteral("sad")};
    pooled.confusion = {{0, 1}, {0, 2}};
    {
        Database v10(location);
        QVERIFY(v10.open(10).ok());
        QCOMPARE(v10.schemaVersion(), 10);
        QVERIFY(fillOldWorkspace(v10, root.path(), QStringLiteral("c"), 50, Gender::Male,
                                 QStringLiteral("v10 annotator"), &before, &modelId, &firstClip));
        ModelRepository models(v10);
        TrainingRunRecord run = evaluateRun();
        QVERIFY(models.startRun(&run).ok());
        QVERIFY(models.finishRun(run.id, QStringLiteral("succeeded"), QString(), 2, {pooled}).ok());
        oldRun = run.id;
    }

    Database db(location);
    QVERIFY(db.open().ok());
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    expectLabelsKept(db, before);
    ModelRepository models(db);
    QCOMPARE(models.activeModel().value_or(ModelVersionRecord()).id, modelId);
    ModelConfusion old;
    QVERIFY(runConfusion(db, oldRun, 0, &old).ok());
    QCOMPARE(old.metrics.confusion, pooled.confusion);
    QVERIFY(!old.clipsListed);

    // A run of this version keeps each fold's clips, and lists them by cell.
    TrainingRunRecord run = evaluateRun();
    QVERIFY(models.startRun(&run).ok());
    const QList<UtteranceRow> rows = CorpusRepository(db).utteranceRows();
    QCOMPARE(rows.size(), 3);
    MetricsRow fold1 = pooled;
    fold1.fold = 1;
    const QList<RunPredictionRow> clips = {
        {1, rows[0].id, QStringLiteral("angry"), QStringLiteral("sad"), 0.75},
        {1, rows[1].id, QStringLiteral("sad"), QStringLiteral("sad"), 0.5},
        {1, rows[2].id, QStringLiteral("sad"), QStringLiteral("sad"), 0.625}};
    QVERIFY(
        models.finishRun(run.id, QStringLiteral("succeeded"), QString(), 2, {pooled, fold1}, clips)
            .ok());
    QCOMPARE(models.runPredictions(run.id, 1).size(), 3);
    QCOMPARE(models.runPredictions(run.id).size(), 3);
    QCOMPARE(models.runPredictions(run.id, 2).size(), 0);
    ModelConfusion kept;
    QVERIFY(runConfusion(db, run.id, 1, &kept).ok());
    QVERIFY(kept.clipsListed);
    QCOMPARE(kept.cells[0][1], QList<qint64>{rows[0].id});
    QCOMPARE(kept.cells[1][1].size(), 2);
    QCOMPARE(kept.clips.value(rows[0].id).confidence, 0.75);
    QCOMPARE(kept.clips.value(rows[0].id).key, rows[0].key);
}

void StoreTest::pathMapsLetMachinesMountTheAudioElsewhere()
{
    // Machine A imports the audio from its mount point; machine B mounts the same folder
    // elsewhere and maps A's folder to its own.
    QDir root(m_dir.path());
    QVERIFY(root.mkpath(QStringLiteral("machineA/emodb/wav")));
    const QDir source(test::corpus(QStringLiteral("emodb")) + QStringLiteral("/wav"));
    for (const QString &name : source.entryList({QStringLiteral("*.wav")}, QDir::Files))
        QVERIFY(QFile::copy(source.filePath(name),
                            root.filePath(QStringLiteral("machineA/emodb/wav/") + name)));
    const QString a = root.filePath(QStringLiteral("machineA"));
    const QString b = root.filePath(QStringLiteral("machineB"));
    const QString ws = workspace(QStringLiteral("mounted"));
    const QString key = WorkspaceLocation::parse(ws).key();
    const auto importFrom = [&ws](const QString &folder, ImportReport *report) {
        ImportRequest request;
        request.rootPath = folder + QStringLiteral("/emodb");
        request.databasePath = ws;
        request.format = QStringLiteral("emodb");
        SilentProgress quiet;
        return bool(CorpusImporter::run(request, quiet, report));
    };
    ImportReport first;
    QVERIFY(importFrom(a, &first));
    const int clips = first.outcome.added;
    QVERIFY(clips > 0);
    QVERIFY(root.rename(QStringLiteral("machineA"), QStringLiteral("machineB")));

    const auto paths = [&ws](QStringList *utterances, QString *corpusRoot) {
        Database db(ws);
        if (!db.open())
            return false;
        CorpusRepository corpora(db);
        utterances->clear();
        for (const UtteranceRecord &u : corpora.utterances(0))
            *utterances << u.path;
        *corpusRoot = corpora.corpora().value(0).rootPath;
        return true;
    };
    QStringList found;
    QString corpusRoot;
    // No map: the paths as A stored them, which B does not have.
    QVERIFY(paths(&found, &corpusRoot));
    QCOMPARE(found.size(), clips);
    QVERIFY2(found.first().startsWith(a + u'/'), qPrintable(found.first()));
    QVERIFY(!QFileInfo::exists(found.first()));

    // B's map: every path read is B's, and the files are there.
    PathMap map;
    QVERIFY(PathMap::parse(a + u'=' + b + u'/', &map)); // a trailing slash is the same folder
    PathMap::setForWorkspace(key, map);
    QVERIFY(paths(&found, &corpusRoot));
    QCOMPARE(corpusRoot, b + QStringLiteral("/emodb"));
    for (const QString &path : std::as_const(found))
        QVERIFY2(path.startsWith(b + u'/') && QFileInfo::exists(path), qPrintable(path));

    // B imports again from its own folder: nothing moved, and the workspace still names A's
    // folder, so A (without a map) finds every clip as before.
    ImportReport again;
    QVERIFY(importFrom(b, &again));
    QCOMPARE(again.outcome.unchanged, clips);
    QCOMPARE(again.outcome.moved, 0);
    PathMap::setForWorkspace(key, PathMap());
    QVERIFY(paths(&found, &corpusRoot));
    QCOMPARE(corpusRoot, a + QStringLiteral("/emodb"));
    for (const QString &path : std::as_const(found))
        QVERIFY2(path.startsWith(a + u'/'), qPrintable(path));

    // The same map from EMOLENS_PATH_MAP (the command line's way), for every workspace.
    qputenv("EMOLENS_PATH_MAP", (QStringLiteral("/nowhere=/elsewhere;") + a + u'=' + b).toUtf8());
    QVERIFY(paths(&found, &corpusRoot));
    qunsetenv("EMOLENS_PATH_MAP");
    QVERIFY2(found.first().startsWith(b + u'/') && QFileInfo::exists(found.first()),
             qPrintable(found.first()));
}

QTEST_GUILESS_MAIN(StoreTest)
#include "test_store.moc"
