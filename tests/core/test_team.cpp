// A team on one PostgreSQL workspace: the server, not only the app, keeps each annotator to
// their own name. On the SQLite run: a workspace file says it has no team rights.

#include "ImportedWorkspace.h"
#include "TestPaths.h"
#include "TestWorkspace.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/LabelWriter.h"
#include "store/TeamRepository.h"
#include "store/TraceRepository.h"

#include <QCoreApplication>
#include <QFile>
#include <QProcess>
#include <QSignalSpy>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace emolens;

namespace {

int count(Database &db, const QString &sql)
{
    QSqlQuery q(db.connection());
    if (!q.exec(sql) || !q.next())
        return -1;
    return q.value(0).toInt();
}

} // namespace

class TeamTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void aWorkspaceFileHasNoTeamRights();
    void theServerKeepsEachAnnotatorToTheirOwnName();
    void labelsTypedWhileTheServerIsDownAreWrittenOnceWhenItIsBack();

private:
    QTemporaryDir m_dir;
};

void TeamTest::aWorkspaceFileHasNoTeamRights()
{
    if (test::onPostgres())
        QSKIP("the SQLite run checks this; the PostgreSQL run checks the rights");
    const QString path = test::newWorkspace(QDir(m_dir.path()), QStringLiteral("solo"));
    Database db(path);
    QVERIFY(db.open());
    TeamRepository team(db);
    const Status st = team.setUp();
    QVERIFY(!st);
    QVERIFY2(st.error().contains(path) && st.error().contains(QStringLiteral("PostgreSQL")),
             qPrintable(st.error()));
    QVERIFY(!team.addMember(QStringLiteral("ana"), TeamRole::Annotator));
    QCOMPARE(team.currentUser(), QString());
}

void TeamTest::theServerKeepsEachAnnotatorToTheirOwnName()
{
    if (!test::onPostgres())
        QSKIP("needs the PostgreSQL test server (core_test_team_postgresql)");
    // Users are the server's, not the database's: names unique to this run.
    const QString suffix = QString::number(QCoreApplication::applicationPid());
    const QString ana = QStringLiteral("ana_") + suffix;
    const QString bo = QStringLiteral("bo_") + suffix;
    const QString rev = QStringLiteral("rev_") + suffix;

    const QString url = test::newWorkspace(QDir(m_dir.path()), QStringLiteral("team"));
    QList<UtteranceRecord> clips;
    auto owner = test::importedWorkspace(QStringLiteral("ravdess"), url, &clips);
    QVERIFY(owner);
    QVERIFY(clips.size() >= 2);
    const qint64 schemaId = CorpusRepository(*owner).corpus(clips[0].corpusId)->labelSchemaId;
    TeamRepository team(*owner);
    QVERIFY(team.setUp());
    QVERIFY(team.setUp()); // again: nothing changes, nothing fails
    QVERIFY(team.addMember(ana, TeamRole::Annotator, QStringLiteral("pw-ana")));
    QVERIFY(team.addMember(bo, TeamRole::Annotator, QStringLiteral("pw-bo")));
    QVERIFY(team.addMember(rev, TeamRole::Reviewer, QStringLiteral("pw-rev")));
    QList<TeamMember> members;
    QVERIFY(team.members(&members));
    QCOMPARE(members.size(), 3);
    for (const TeamMember &m : std::as_const(members))
        QCOMPARE(m.role, m.name == rev ? TeamRole::Reviewer : TeamRole::Annotator);

    Database asAna(test::signedInAs(url, ana, QStringLiteral("pw-ana")));
    Database asBo(test::signedInAs(url, bo, QStringLiteral("pw-bo")));
    Database asRev(test::signedInAs(url, rev, QStringLiteral("pw-rev")));
    QVERIFY(asAna.open());
    QVERIFY(asBo.open());
    QVERIFY(asRev.open());
    QVERIFY2(!asAna.filePath().contains(QStringLiteral("pw-ana")), qPrintable(asAna.filePath()));
    QCOMPARE(TeamRepository(asAna).currentUser(), ana);

    // Each labels in their own name.
    LabelRepository anaLabels(asAna), boLabels(asBo), revLabels(asRev);
    QVERIFY(anaLabels.setLabel(clips[0].id, schemaId, ana,
                               LabelValue::ofCategory(QStringLiteral("sad"))));
    QVERIFY(boLabels.setLabel(clips[0].id, schemaId, bo,
                              LabelValue::ofCategory(QStringLiteral("happy"))));

    // Ana writing as Bo (who exists) and as someone new: the server refuses both.
    const Status asOther = anaLabels.setLabel(clips[1].id, schemaId, bo,
                                              LabelValue::ofCategory(QStringLiteral("angry")));
    QVERIFY(!asOther);
    QVERIFY2(asOther.error().contains(QStringLiteral("row-level security")),
             qPrintable(asOther.error()));
    const Status asNew = anaLabels.setLabel(clips[1].id, schemaId, QStringLiteral("carl"),
                                            LabelValue::ofCategory(QStringLiteral("angry")));
    QVERIFY(!asNew);
    QVERIFY2(asNew.error().contains(QStringLiteral("row-level security")),
             qPrintable(asNew.error()));
    // Not even by hand, past the app: no insert as Bo, no update, no delete.
    QSqlQuery raw(asAna.connection());
    QVERIFY(!raw.exec(QStringLiteral("INSERT INTO labels(utterance_id, schema_id, annotator_id, "
                                     "created_at, category) SELECT utterance_id, schema_id, "
                                     "annotator_id, created_at, 'angry' FROM labels")));
    QVERIFY(!raw.exec(QStringLiteral("DELETE FROM labels")));
    QVERIFY2(raw.lastError().databaseText().contains(QStringLiteral("permission denied")),
             qPrintable(raw.lastError().databaseText()));
    QVERIFY(!raw.exec(QStringLiteral("UPDATE labels SET category='angry'")));
    QVERIFY(!raw.exec(QStringLiteral("DELETE FROM annotators")));
    // An annotator does not import corpora or change the workspace's tables.
    QVERIFY(!raw.exec(QStringLiteral("INSERT INTO corpora(name, root_path, format, imported_at) "
                                     "VALUES('mine', '/x', 'generic', 'now')")));
    QVERIFY(!raw.exec(QStringLiteral("DROP TABLE labels")));

    // Traces too: one's own is stored, another's refused.
    TraceRecord trace;
    trace.utteranceId = clips[0].id;
    trace.annotatorName = ana;
    trace.dimension = QStringLiteral("arousal");
    trace.rateHz = 25;
    trace.samples = {0.1f, 0.2f, 0.3f};
    QVERIFY(TraceRepository(asAna).addTrace(&trace));
    trace.annotatorName = bo;
    QVERIFY(!TraceRepository(asAna).addTrace(&trace));

    // A reviewer labels in their own name, not in an annotator's.
    QVERIFY(revLabels.setLabel(clips[1].id, schemaId, rev,
                               LabelValue::ofCategory(QStringLiteral("neutral"))));
    QVERIFY(!revLabels.setLabel(clips[1].id, schemaId, ana,
                                LabelValue::ofCategory(QStringLiteral("neutral"))));

    // What the owner sees: every refused write left nothing behind.
    QCOMPARE(count(*owner, QStringLiteral("SELECT count(*) FROM labels l JOIN annotators a ON "
                                          "a.id=l.annotator_id WHERE a.kind='person'")),
             3);
    QCOMPARE(LabelRepository(*owner).currentLabel(clips[0].id, bo)->value.category,
             QStringLiteral("happy"));
    QCOMPARE(count(*owner, QStringLiteral("SELECT count(*) FROM traces")), 1);
    QVERIFY(!LabelRepository(*owner).annotators().contains(QStringLiteral("carl")));

    // Removed from the team, Bo can still sign in to the server but not label here.
    QVERIFY(team.removeMember(bo));
    QVERIFY(team.members(&members));
    QCOMPARE(members.size(), 2);
    QVERIFY(!boLabels.setLabel(clips[1].id, schemaId, bo,
                               LabelValue::ofCategory(QStringLiteral("sad"))));
    Database again(test::signedInAs(url, bo, QStringLiteral("pw-bo")));
    const Status reopened = again.open();
    QVERIFY(!reopened);
    QVERIFY2(reopened.error().contains(QStringLiteral("permission denied")),
             qPrintable(reopened.error()));
    QCOMPARE(count(*owner, QStringLiteral("SELECT count(*) FROM labels l JOIN annotators a ON "
                                          "a.id=l.annotator_id WHERE a.kind='person'")),
             3);
}

void TeamTest::labelsTypedWhileTheServerIsDownAreWrittenOnceWhenItIsBack()
{
    if (!test::onPostgres())
        QSKIP("needs the PostgreSQL test server (core_test_team_postgresql)");
    // The journals go to this test's folder, not the user's cache.
    qputenv("XDG_CACHE_HOME", m_dir.path().toUtf8());
    const QString url = test::newWorkspace(QDir(m_dir.path()), QStringLiteral("outage"));
    QList<UtteranceRecord> clips;
    auto owner = test::importedWorkspace(QStringLiteral("ravdess"), url, &clips);
    QVERIFY(owner);
    owner.reset(); // its connection would die with the server too
    const QString who = QStringLiteral("ann");
    const auto edit = [&](int i) {
        LabelWrite w;
        w.utteranceId = clips[i % clips.size()].id;
        w.annotator = who;
        w.value = LabelValue::ofCategory(i % 2 ? QStringLiteral("sad") : QStringLiteral("happy"));
        Database probe(url);
        if (probe.open())
            w.schemaId = CorpusRepository(probe).corpus(clips[0].corpusId)->labelSchemaId;
        return w;
    };
    QList<LabelWrite> edits;
    for (int i = 0; i < 30; ++i)
        edits << edit(i);

    int typed = 0;
    {
        LabelWriter writer(url);
        QSignalSpy offline(&writer, &LabelWriter::offline);
        QSignalSpy drained(&writer, &LabelWriter::drained);
        for (; typed < 5; ++typed)
            writer.enqueue(edits[typed]);
        QTRY_COMPARE_WITH_TIMEOUT(writer.unsavedCount(), 0, 20000);

        // The server goes away while the annotator goes on labeling.
        QVERIFY(test::controlServer("pause"));
        for (; typed < 15; ++typed)
            writer.enqueue(edits[typed]);
        QTRY_VERIFY_WITH_TIMEOUT(!offline.isEmpty(), 10000); // noticed within seconds
        QVERIFY(writer.isOffline());
        QCOMPARE(offline.first().first().toBool(), true);
        QCOMPARE(writer.unsavedCount(), 10);
        // Held in the journal, in order.
        QFile journal(writer.journalPath());
        QVERIFY(journal.open(QIODevice::ReadOnly));
        QCOMPARE(journal.readAll().count('\n'), 10);
        journal.close();

        QVERIFY(test::controlServer("resume"));
        QTRY_COMPARE_WITH_TIMEOUT(writer.unsavedCount(), 0, 30000);
        QVERIFY(!writer.isOffline());
        QTRY_COMPARE(offline.size(), 2);
        QCOMPARE(offline.last().first().toBool(), false);
        QVERIFY(!drained.isEmpty());
        QVERIFY(!QFile::exists(writer.journalPath())); // nothing left to write
    }

    // Offline again, and the program closes (or is killed) with edits unwritten: the next
    // writer on the workspace adopts the journal and writes them, once.
    QVERIFY(test::controlServer("pause"));
    {
        LabelWriter writer(url);
        for (; typed < 30; ++typed)
            writer.enqueue(edits[typed]);
        QTRY_VERIFY_WITH_TIMEOUT(writer.isOffline(), 10000);
        QCOMPARE(writer.unsavedCount(), 15);
    }
    QVERIFY(test::controlServer("resume"));
    {
        LabelWriter writer(url);
        QSignalSpy adopted(&writer, &LabelWriter::adopted);
        QTRY_COMPARE_WITH_TIMEOUT(adopted.size(), 1, 10000);
        QCOMPARE(adopted.first().first().toInt(), 15);
        QTRY_COMPARE_WITH_TIMEOUT(writer.unsavedCount(), 0, 30000);
    }

    Database check(url);
    QVERIFY(check.open());
    QCOMPARE(count(check, QStringLiteral("SELECT count(*) FROM labels l JOIN annotators a ON "
                                         "a.id=l.annotator_id WHERE a.name='ann'")),
             30);
    QCOMPARE(count(check, QStringLiteral("SELECT count(DISTINCT client_key) FROM labels")), 30);
    // In the order they were typed: the newest label of each clip is its last edit.
    LabelRepository labels(check);
    for (int c = 0; c < qMin(30, int(clips.size())); ++c) {
        int last = -1;
        for (int i = 0; i < 30; ++i)
            if (edits[i].utteranceId == clips[c].id)
                last = i;
        if (last >= 0)
            QCOMPARE(labels.currentLabel(clips[c].id, who)->value.category,
                     edits[last].value.category);
    }
}

QTEST_GUILESS_MAIN(TeamTest)
#include "test_team.moc"
