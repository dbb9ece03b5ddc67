// Work assignment for a team (core/store/AssignmentRepository): each clip gets as many
// different people as the overlap asks, nobody gets a clip someone else holds, an expired
// claim really goes to the next person, the active-learning ranking orders the queue, and a
// shared setting is never silently overwritten. Runs on SQLite and (core_test_assignment_
// postgresql) on the PostgreSQL test server.

#include "ImportedWorkspace.h"
#include "TestPaths.h"
#include "TestWorkspace.h"
#include "store/AssignmentRepository.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/SelectionRepository.h"

#include <QHash>
#include <QMutex>
#include <QSet>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

using namespace emolens;

class AssignmentTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void everyClipGetsOverlapDifferentPeopleAndStartedClipsComeFirst();
    void aClaimIsNobodyElsesUntilItExpires();
    void theActiveLearningRankingOrdersTheQueue();
    void twoPeopleAskingAtOnceNeverGetTheSameClip();
    void aSharedSettingIsNeverSilentlyOverwritten();

private:
    std::unique_ptr<Database> workspace(const QString &name, QList<UtteranceRecord> *clips)
    {
        return test::importedWorkspace(QStringLiteral("ravdess"),
                                       test::newWorkspace(QDir(m_dir.path()), name), clips);
    }
    QTemporaryDir m_dir;
};

void AssignmentTest::everyClipGetsOverlapDifferentPeopleAndStartedClipsComeFirst()
{
    QList<UtteranceRecord> clips;
    auto db = workspace(QStringLiteral("overlap"), &clips);
    QVERIFY(db);
    const qint64 schemaId = CorpusRepository(*db).corpus(clips[0].corpusId)->labelSchemaId;
    AssignmentRepository assign(*db);
    QCOMPARE(assign.overlap(), 1);                                               // the default
    QCOMPARE(assign.claimSeconds(), AssignmentRepository::kDefaultClaimSeconds); // no pace yet
    QVERIFY(assign.writeSetting(QStringLiteral("overlap"), QStringLiteral("2"), 0,
                                QStringLiteral("lead")));
    QCOMPARE(assign.overlap(), 2);

    LabelRepository labels(*db);
    const QStringList people = {QStringLiteral("ana"), QStringLiteral("bo"), QStringLiteral("cy")};
    // Ana takes the first clip and labels it; Bo is handed that started clip, not a new one.
    std::optional<ClipClaim> first, second;
    QVERIFY(assign.claimNext({QStringLiteral("ana")}, &first));
    QVERIFY(first.has_value());
    QCOMPARE(first->labelsSoFar, 0);
    QVERIFY(labels.setLabel(first->utteranceId, schemaId, QStringLiteral("ana"),
                            LabelValue::ofCategory(QStringLiteral("sad"))));
    QVERIFY(assign.claimNext({QStringLiteral("bo")}, &second));
    QVERIFY(second.has_value());
    QCOMPARE(second->utteranceId, first->utteranceId);
    QCOMPARE(second->labelsSoFar, 1);
    QVERIFY(labels.setLabel(second->utteranceId, schemaId, QStringLiteral("bo"),
                            LabelValue::ofCategory(QStringLiteral("sad"))));

    // The three label in turn until nothing is left for anyone.
    QHash<qint64, QSet<QString>> labeledBy;
    labeledBy[first->utteranceId] = {QStringLiteral("ana"), QStringLiteral("bo")};
    QSet<QString> done;
    int handedOut = 0;
    for (int turn = 0; done.size() < people.size() && turn < 1000; ++turn) {
        const QString &who = people[turn % people.size()];
        if (done.contains(who))
            continue;
        std::optional<ClipClaim> claim;
        QVERIFY(assign.claimNext({who}, &claim));
        if (!claim) {
            done.insert(who);
            continue;
        }
        ++handedOut;
        QVERIFY2(
            !labeledBy[claim->utteranceId].contains(who),
            qPrintable(QStringLiteral("%1 got clip %2 twice").arg(who).arg(claim->utteranceId)));
        QVERIFY(labels.setLabel(claim->utteranceId, schemaId, who,
                                LabelValue::ofCategory(QStringLiteral("happy"))));
        labeledBy[claim->utteranceId].insert(who);
    }
    QCOMPARE(done.size(), people.size());
    QCOMPARE(labeledBy.size(), clips.size());
    for (auto it = labeledBy.cbegin(); it != labeledBy.cend(); ++it)
        QCOMPARE(it->size(), 2);
    QCOMPARE(handedOut, 2 * int(clips.size()) - 2);
    int left = -1;
    QVERIFY(assign.clipsNeedingLabels(0, 2, &left));
    QCOMPARE(left, 0);
    QVERIFY(assign.clipsNeedingLabels(0, 3, &left));
    QCOMPARE(left, int(clips.size()));
    // Labels written within milliseconds of each other: the shortest claim.
    QCOMPARE(assign.claimSeconds(), AssignmentRepository::kMinClaimSeconds);
}

void AssignmentTest::aClaimIsNobodyElsesUntilItExpires()
{
    QList<UtteranceRecord> clips;
    auto db = workspace(QStringLiteral("expiry"), &clips);
    QVERIFY(db);
    AssignmentRepository assign(*db);
    const double t0 = AssignmentRepository::nowSeconds();
    const auto ask = [&](const QString &who, double at) {
        std::optional<ClipClaim> claim;
        AssignmentRequest request;
        request.annotator = who;
        request.now = at;
        request.claimSeconds = 300;
        if (!assign.claimNext(request, &claim) || !claim)
            return ClipClaim();
        return *claim;
    };
    const ClipClaim ana = ask(QStringLiteral("ana"), t0);
    QVERIFY(ana.utteranceId > 0);
    QCOMPARE(ana.expiresAt, t0 + 300);
    const ClipClaim bo = ask(QStringLiteral("bo"), t0 + 10);
    QVERIFY(bo.utteranceId > 0 && bo.utteranceId != ana.utteranceId);
    // Asking again gives one's own unfinished clip back, renewed.
    const ClipClaim anaAgain = ask(QStringLiteral("ana"), t0 + 20);
    QCOMPARE(anaAgain.utteranceId, ana.utteranceId);
    QVERIFY(anaAgain.resumed);
    QCOMPARE(anaAgain.expiresAt, t0 + 320);
    QList<ClipClaim> held;
    QVERIFY(assign.claims(&held, t0 + 30));
    QCOMPARE(held.size(), 2);

    // Ana walks away. After her claim expired, the next person gets her clip.
    const ClipClaim cy = ask(QStringLiteral("cy"), t0 + 400);
    QCOMPARE(cy.utteranceId, ana.utteranceId);
    QVERIFY(assign.claims(&held, t0 + 401));
    QCOMPARE(held.size(), 1); // Bo's expired too, and was released
    QCOMPARE(held.first().annotator, QStringLiteral("cy"));
    // Ana comes back: her renewal is a conflict that names who has the clip now.
    const Status renewed = assign.renewClaim(ana.utteranceId, QStringLiteral("ana"), t0 + 402);
    QVERIFY(!renewed);
    QVERIFY2(renewed.error().contains(QStringLiteral("conflict")) &&
                 renewed.error().contains(QStringLiteral("cy")),
             qPrintable(renewed.error()));
    // Cy's own renewal goes through; giving the clip back frees it.
    ClipClaim cyRenewed;
    QVERIFY(assign.renewClaim(cy.utteranceId, QStringLiteral("cy"), t0 + 403, &cyRenewed));
    QCOMPARE(cyRenewed.version, cy.version + 1);
    QVERIFY(assign.releaseClaim(cy.utteranceId, QStringLiteral("cy")));
    QVERIFY(assign.claims(&held, t0 + 404));
    QVERIFY(held.isEmpty());
}

void AssignmentTest::theActiveLearningRankingOrdersTheQueue()
{
    QList<UtteranceRecord> clips;
    auto db = workspace(QStringLiteral("ranked"), &clips);
    QVERIFY(db);
    // The newest round ranks three clips from the end of the corpus first, in reverse.
    SelectionRoundRecord round;
    round.strategy = QStringLiteral("entropy");
    round.settings = QStringLiteral("{}");
    round.poolSize = int(clips.size());
    QList<SelectionPickRecord> picks;
    for (int r = 1; r <= 3; ++r) {
        SelectionPickRecord pick;
        pick.rank = r;
        pick.utteranceId = clips[clips.size() - r].id;
        pick.reason = QStringLiteral("uncertain");
        picks << pick;
    }
    QVERIFY(SelectionRepository(*db).addRound(&round, picks));
    AssignmentRepository assign(*db);
    QList<qint64> order;
    for (const char *who : {"ana", "bo", "cy", "dee"}) {
        std::optional<ClipClaim> claim;
        QVERIFY(assign.claimNext({QString::fromLatin1(who)}, &claim));
        QVERIFY(claim.has_value());
        order << claim->utteranceId;
    }
    QList<qint64> ids;
    for (const UtteranceRecord &c : std::as_const(clips))
        ids << c.id;
    std::sort(ids.begin(), ids.end());
    // The ranked three first, in rank order; then the rest by id.
    QCOMPARE(order, (QList<qint64>{clips[clips.size() - 1].id, clips[clips.size() - 2].id,
                                   clips[clips.size() - 3].id, ids.first()}));
}

void AssignmentTest::twoPeopleAskingAtOnceNeverGetTheSameClip()
{
    QList<UtteranceRecord> clips;
    const QString location = test::newWorkspace(QDir(m_dir.path()), QStringLiteral("race"));
    QVERIFY(test::importedWorkspace(QStringLiteral("ravdess"), location, &clips));
    QMutex lock;
    QHash<qint64, QString> holder;
    QStringList errors;
    QList<QThread *> threads;
    for (const QString &who : {QStringLiteral("ana"), QStringLiteral("bo")}) {
        threads << QThread::create([&, who] {
            Database db(location);
            if (!db.open()) {
                QMutexLocker locker(&lock);
                errors << QStringLiteral("cannot open");
                return;
            }
            AssignmentRepository assign(db);
            // Each asks 20 times, each time as someone new (one holds one claim), so every
            // request is a fresh claim racing the other thread's.
            for (int i = 0; i < 20; ++i) {
                std::optional<ClipClaim> claim;
                const Status st =
                    assign.claimNext({QStringLiteral("%1-%2").arg(who).arg(i)}, &claim);
                QMutexLocker locker(&lock);
                if (!st)
                    errors << st.error();
                else if (claim && holder.contains(claim->utteranceId))
                    errors << QStringLiteral("clip %1 went to %2 and %3")
                                  .arg(claim->utteranceId)
                                  .arg(holder.value(claim->utteranceId), claim->annotator);
                else if (claim)
                    holder.insert(claim->utteranceId, claim->annotator);
            }
        });
        threads.last()->start();
    }
    for (QThread *t : threads) {
        t->wait();
        delete t;
    }
    QCOMPARE(errors, QStringList());
    QCOMPARE(holder.size(), 40);
}

void AssignmentTest::aSharedSettingIsNeverSilentlyOverwritten()
{
    QList<UtteranceRecord> clips;
    auto db = workspace(QStringLiteral("settings"), &clips);
    QVERIFY(db);
    AssignmentRepository lead(*db);
    Database other(db->filePath()); // a second connection: another person's program
    QVERIFY(other.open());
    AssignmentRepository colleague(other);
    // Both read the overlap (never written: version 0), both change it.
    WorkspaceSetting mine, theirs;
    QVERIFY(lead.setting(QStringLiteral("overlap"), QStringLiteral("1"), &mine));
    QVERIFY(colleague.setting(QStringLiteral("overlap"), QStringLiteral("1"), &theirs));
    QCOMPARE(mine.version, 0);
    QVERIFY(lead.writeSetting(QStringLiteral("overlap"), QStringLiteral("3"), mine.version,
                              QStringLiteral("lead")));
    bool conflict = false;
    const Status late =
        colleague.writeSetting(QStringLiteral("overlap"), QStringLiteral("2"), theirs.version,
                               QStringLiteral("colleague"), &conflict);
    QVERIFY(!late);
    QVERIFY(conflict);
    QVERIFY2(late.error().contains(QStringLiteral("lead")) &&
                 late.error().contains(QStringLiteral("3")),
             qPrintable(late.error()));
    QCOMPARE(lead.overlap(), 3); // the first write stands
    // Having seen it, the colleague writes over the version they now know.
    QVERIFY(colleague.setting(QStringLiteral("overlap"), QStringLiteral("1"), &theirs));
    QCOMPARE(theirs.version, 1);
    QCOMPARE(theirs.changedBy, QStringLiteral("lead"));
    QVERIFY(colleague.writeSetting(QStringLiteral("overlap"), QStringLiteral("2"), theirs.version,
                                   QStringLiteral("colleague"), &conflict));
    QVERIFY(!conflict);
    QCOMPARE(lead.overlap(), 2);
}

QTEST_GUILESS_MAIN(AssignmentTest)
#include "test_assignment.moc"
