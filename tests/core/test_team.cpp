// A team on one PostgreSQL workspace: the server, not only the app, keeps each annotator to
// their own name. On the SQLite run: a workspace file says it has no team rights.

#include "ImportedWorkspace.h"
#include "TestPaths.h"
#include "TestWorkspace.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/TeamRepository.h"
#include "store/TraceRepository.h"

#include <QCoreApplication>
#include <QSqlError>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>

using namespace emolens;

namespace {

// The workspace's URL, signed in as `user` with `password`.
QString signedInAs(const QString &workspace, const QString &user, const QString &password)
{
    QUrl url(workspace);
    url.setUserName(user);
    url.setPassword(password);
    return url.toString();
}

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

    Database asAna(signedInAs(url, ana, QStringLiteral("pw-ana")));
    Database asBo(signedInAs(url, bo, QStringLiteral("pw-bo")));
    Database asRev(signedInAs(url, rev, QStringLiteral("pw-rev")));
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
    Database again(signedInAs(url, bo, QStringLiteral("pw-bo")));
    const Status reopened = again.open();
    QVERIFY(!reopened);
    QVERIFY2(reopened.error().contains(QStringLiteral("permission denied")),
             qPrintable(reopened.error()));
    QCOMPARE(count(*owner, QStringLiteral("SELECT count(*) FROM labels l JOIN annotators a ON "
                                          "a.id=l.annotator_id WHERE a.kind='person'")),
             3);
}

QTEST_GUILESS_MAIN(TeamTest)
#include "test_team.moc"
