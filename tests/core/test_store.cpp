// The store: schema and migrations, idempotent import, moved/changed files, append-only
// label history, and durability of committed labels across a kill.

#include "audio/AudioFile.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"

#include <QFile>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <csignal>
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

private:
    QTemporaryDir m_dir;
};

void StoreTest::newWorkspaceHasCurrentSchemaWalAndForeignKeys()
{
    Database db(m_dir.filePath(QStringLiteral("new.emolens")));
    QVERIFY2(db.open(), "open failed");
    QCOMPARE(db.schemaVersion(), Database::kCurrentSchemaVersion);
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA journal_mode")).toString(), QStringLiteral("wal"));
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA foreign_keys")).toInt(), 1);
    QVERIFY(scalar(db, QStringLiteral("PRAGMA busy_timeout")).toInt() >= 1000);
    // A label for an utterance that does not exist violates a foreign key.
    LabelRepository labels(db);
    QVERIFY(!labels.setLabel(12345, 1, QStringLiteral("ann"),
                             LabelValue::ofCategory(QStringLiteral("sad"))));
}

void StoreTest::migratesVersion1WorkspaceKeepingData()
{
    const QString path = m_dir.filePath(QStringLiteral("old.emolens"));
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
    const QString newer = m_dir.filePath(QStringLiteral("newer.emolens"));
    {
        Database db(newer);
        QVERIFY(db.open());
        QSqlQuery q(db.connection());
        QVERIFY(q.exec(QStringLiteral("PRAGMA user_version=99")));
    }
    Database db(newer);
    const Status st = db.open();
    QVERIFY(!st);
    QVERIFY2(st.error().contains(newer) && st.error().contains(QStringLiteral("newer")),
             qPrintable(st.error()));

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
    Database db(m_dir.filePath(QStringLiteral("idem.emolens")));
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
    Database db(m_dir.filePath(QStringLiteral("moved.emolens")));
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
    Database db(m_dir.filePath(QStringLiteral("history.emolens")));
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
    QCOMPARE(labels.currentLabel(id, schemaId, QStringLiteral("ann"))->value, v1);
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
    Database db(m_dir.filePath(QStringLiteral("shown.emolens")));
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
    QCOMPARE(labels.latestLabel(id, schemaId)->value.category, QStringLiteral("sad"));
    QVERIFY(labels.setLabel(id, schemaId, QStringLiteral("ann"), LabelValue{})); // cleared
    QCOMPARE(corpora.utteranceRows().first().label, QStringLiteral("neutral"));
    QCOMPARE(labels.labelCounts(), (QMap<QString, int>{{QStringLiteral("neutral"), 1}}));
}

void StoreTest::committedLabelSurvivesKill()
{
    QTemporaryDir root;
    const QString path = m_dir.filePath(QStringLiteral("kill.emolens"));
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
    const auto label = LabelRepository(db).currentLabel(id, schemaId, QStringLiteral("ann"));
    QVERIFY(label.has_value());
    QCOMPARE(label->value.category, QStringLiteral("angry"));
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
}

void StoreTest::uncommittedWorkIsDiscardedOnKill()
{
    const QString path = m_dir.filePath(QStringLiteral("kill.emolens"));
    int before = 0;
    {
        Database db(path);
        QVERIFY(db.open());
        before = scalar(db, QStringLiteral("SELECT count(*) FROM labels")).toInt();
        QVERIFY(before > 0);
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
    QCOMPARE(scalar(db, QStringLiteral("PRAGMA integrity_check")).toString(), QStringLiteral("ok"));
}

QTEST_GUILESS_MAIN(StoreTest)
#include "test_store.moc"
