// bench_team_labeling [--annotators N] [--seconds S] [--interval-ms MS] [--port P]
//                     [--clips C] [--backends LIST]
// A team labeling one workspace at once: N annotator processes (default 10), each asking for
// its next clip (AssignmentRepository::claimNext) and labeling it through the app's
// LabelWriter (journal, reconnect, client keys) every MS milliseconds (default 200: 25 to 50
// times a person's pace), for S seconds (default 120). On PostgreSQL (a server of its own,
// tests/support/postgres-server.sh on port P, default 55441) the server is stopped at half time and
// started again 3 s later. The reference in the same run is the embedded default: the same team on
// one SQLite file (no restart; a file has no server to lose). Prints per backend: labels typed,
// written, lost (typed but not stored: must be 0), doubled (stored twice: must be 0), writes per
// second, and the write latency (typed -> committed) p50/p95/max, also without the writes that
// waited out the outage.
//
// --backends sqlite,postgresql (default both). Run from the build folder; it finds the
// server script through EMOLENS_SOURCE_DIR (default: the source folder it was built from).

#include "BenchMachine.h"
#include "common/Progress.h"
#include "store/AssignmentRepository.h"
#include "store/CorpusRepository.h"
#include "store/Database.h"
#include "store/LabelRepository.h"
#include "store/LabelWriter.h"
#include "store/TeamRepository.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRandomGenerator>
#include <QSet>
#include <QSqlQuery>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QUrl>
#include <algorithm>
#include <cstdio>
#include <vector>

using namespace emolens;

namespace {

QString serverScript()
{
    const QString root =
        qEnvironmentVariable("EMOLENS_SOURCE_DIR", QStringLiteral(EMOLENS_SOURCE_DIR));
    return QDir(root).filePath(QStringLiteral("tests/support/postgres-server.sh"));
}

bool server(const QString &action, int port, QString *out = nullptr)
{
    QProcess p;
    p.start(QStringLiteral("/bin/bash"), {serverScript(), action, QString::number(port)});
    const bool ok =
        p.waitForFinished(120000) && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
    if (out)
        *out = QString::fromUtf8(p.readAllStandardOutput()).trimmed();
    if (!ok)
        std::fprintf(stderr, "postgres-server.sh %s: %s\n", qPrintable(action),
                     p.readAllStandardError().constData());
    return ok;
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size() - 1) + 0.5))];
}

// One annotator: claims, labels, measures. Writes {typed: [keys], latencies: [ms], ...} to out.
int child(const QString &location, const QString &name, double seconds, int intervalMs,
          const QString &out)
{
    Database db(location);
    for (int i = 0; i < 50 && !db.open(); ++i)
        QThread::msleep(200);
    CorpusRepository corpora(db);
    const QList<CorpusRecord> known = corpora.corpora();
    const qint64 schemaId = known.isEmpty() ? 0 : known.first().labelSchemaId;
    QList<qint64> clips;
    for (const UtteranceRow &row : corpora.utteranceRows())
        clips << row.id;
    if (schemaId == 0 || clips.isEmpty()) {
        std::fprintf(stderr, "%s: the workspace has no clips\n", qPrintable(name));
        return 1;
    }
    LabelWriter writer(location);
    QHash<quint64, qint64> typedAt; // ticket -> ms since start
    QHash<quint64, bool> duringOutage;
    std::vector<double> latencies, latenciesOnline;
    QJsonArray keys, claimMs;
    QElapsedTimer clock;
    clock.start();
    bool offline = false;
    QObject::connect(&writer, &LabelWriter::offline, [&](bool now) { offline = now; });
    QObject::connect(&writer, &LabelWriter::written, [&](quint64 ticket, qint64, const Status &st) {
        if (!st)
            std::fprintf(stderr, "%s: %s\n", qPrintable(name), qPrintable(st.error()));
        const double ms = double(clock.elapsed() - typedAt.value(ticket));
        latencies.push_back(ms);
        if (!duringOutage.value(ticket))
            latenciesOnline.push_back(ms);
    });
    AssignmentRepository assign(db);
    int n = 0;
    QTimer typing;
    typing.setInterval(intervalMs); // far faster than a person (one label in 5 to 10 s)
    qint64 lastReconnect = -1000;
    QObject::connect(&typing, &QTimer::timeout, [&] {
        if (clock.elapsed() > seconds * 1000) {
            typing.stop();
            return;
        }
        // The next clip from the team's queue; while the server is away, the annotator goes
        // on with clips of their own choosing (the journal keeps the labels).
        qint64 clip = clips[n % clips.size()];
        if (!offline && db.isOpen()) {
            std::optional<ClipClaim> claim;
            AssignmentRequest request;
            request.annotator = name;
            request.overlap = 1000; // never run out: every clip takes everyone
            QElapsedTimer claiming;
            claiming.start();
            if (assign.claimNext(request, &claim) && claim) {
                clip = claim->utteranceId;
                claimMs.append(double(claiming.nsecsElapsed()) / 1e6);
            }
        }
        if ((offline || !db.isOpen()) && clock.elapsed() - lastReconnect > 1000) {
            lastReconnect = clock.elapsed();
            if (!db.isAlive())
                db.reconnect();
        }
        LabelWrite w;
        w.utteranceId = clip;
        w.schemaId = schemaId;
        w.annotator = name;
        w.value = LabelValue::ofCategory(n % 2 ? QStringLiteral("sad") : QStringLiteral("happy"));
        w.clientKey = QStringLiteral("%1-%2").arg(name).arg(n);
        const quint64 ticket = writer.enqueue(w);
        typedAt.insert(ticket, clock.elapsed());
        duringOutage.insert(ticket, offline || writer.isOffline());
        keys.append(w.clientKey);
        ++n;
    });
    // People do not label in step: each starts at its own moment within the first interval.
    bool started = false;
    QTimer::singleShot(int(QRandomGenerator::global()->bounded(intervalMs)), &typing, [&] {
        started = true;
        typing.start();
    });
    QEventLoop loop;
    QTimer poll;
    poll.setInterval(100);
    QObject::connect(&poll, &QTimer::timeout, [&] {
        const bool typingDone = started && !typing.isActive();
        if (typingDone && writer.unsavedCount() == 0)
            loop.quit();
        if (clock.elapsed() > (seconds + 90) * 1000) // the queue did not drain: report as is
            loop.quit();
    });
    poll.start();
    loop.exec();
    QJsonArray lat, latOnline;
    for (double v : latencies)
        lat.append(v);
    for (double v : latenciesOnline)
        latOnline.append(v);
    QFile f(out);
    if (!f.open(QIODevice::WriteOnly))
        return 1;
    f.write(QJsonDocument(QJsonObject{{QStringLiteral("typed"), keys},
                                      {QStringLiteral("unsaved"), writer.unsavedCount()},
                                      {QStringLiteral("claim_ms"), claimMs},
                                      {QStringLiteral("latencies"), lat},
                                      {QStringLiteral("latencies_online"), latOnline}})
                .toJson(QJsonDocument::Compact));
    return 0;
}

// Imports `clips` made-up clips (the store does not read audio) into a new workspace.
bool seedWorkspace(const QString &location, int clips)
{
    Database db(location);
    if (!db.open())
        return false;
    ImportBatch batch;
    batch.corpusName = QStringLiteral("bench");
    batch.rootPath = QStringLiteral("/bench");
    batch.format = QStringLiteral("generic");
    batch.labelMapping = QStringLiteral("original");
    batch.schema.name = QStringLiteral("bench-4class");
    batch.schema.classes = {QStringLiteral("angry"), QStringLiteral("happy"),
                            QStringLiteral("neutral"), QStringLiteral("sad")};
    for (int i = 0; i < clips; ++i) {
        ImportItem item;
        item.utterance.path = QStringLiteral("/bench/clip%1.wav").arg(i);
        item.utterance.key = QStringLiteral("clip%1").arg(i);
        item.utterance.sampleRate = 16000;
        item.utterance.channels = 1;
        item.utterance.frames = 48000;
        item.utterance.durationSeconds = 3;
        item.utterance.contentHash = QStringLiteral("%1").arg(i, 16, 16, QLatin1Char('0'));
        item.speakerCode = QStringLiteral("spk%1").arg(i % 10);
        batch.items << item;
    }
    ImportOutcome outcome;
    return CorpusRepository(db).applyImport(batch, &outcome).ok();
}

struct Figures
{
    int typed = 0, written = 0, lost = 0, doubled = 0, unsaved = 0;
    double seconds = 0;
    std::vector<double> latencies, latenciesOnline, claims;
};

Figures runTeam(const QString &location, const QStringList &members, double seconds, int intervalMs,
                const QString &outDir, int restartPort)
{
    Figures f;
    QList<QProcess *> procs;
    QElapsedTimer clock;
    clock.start();
    for (const QString &member : members) {
        auto *p = new QProcess;
        p->setProcessChannelMode(QProcess::ForwardedErrorChannel);
        QString memberLocation = location;
        if (location.startsWith(QLatin1String("postgresql://"))) {
            QUrl url(location);
            url.setUserName(member);
            url.setPassword(QStringLiteral("pw-") + member);
            memberLocation = url.toString();
        }
        p->start(QCoreApplication::applicationFilePath(),
                 {QStringLiteral("--child"), memberLocation, member, QString::number(seconds),
                  QString::number(intervalMs),
                  QDir(outDir).filePath(member + QStringLiteral(".json"))});
        procs << p;
    }
    if (restartPort > 0) {
        QThread::msleep(qint64(seconds * 500));
        std::printf("  stopping the server at %.0f s ...\n", clock.elapsed() / 1000.0);
        server(QStringLiteral("pause"), restartPort);
        QThread::msleep(3000);
        server(QStringLiteral("resume"), restartPort);
        std::printf("  ... started again at %.0f s\n", clock.elapsed() / 1000.0);
    }
    for (QProcess *p : procs) {
        p->waitForFinished(int((seconds + 180) * 1000));
        delete p;
    }
    f.seconds = clock.elapsed() / 1000.0;
    QSet<QString> typedKeys;
    for (const QString &member : members) {
        QFile file(QDir(outDir).filePath(member + QStringLiteral(".json")));
        if (!file.open(QIODevice::ReadOnly))
            continue;
        const QJsonObject o = QJsonDocument::fromJson(file.readAll()).object();
        for (const QJsonValue &k : o.value(QStringLiteral("typed")).toArray())
            typedKeys.insert(k.toString());
        f.unsaved += o.value(QStringLiteral("unsaved")).toInt();
        for (const QJsonValue &v : o.value(QStringLiteral("latencies")).toArray())
            f.latencies.push_back(v.toDouble());
        for (const QJsonValue &v : o.value(QStringLiteral("latencies_online")).toArray())
            f.latenciesOnline.push_back(v.toDouble());
        for (const QJsonValue &v : o.value(QStringLiteral("claim_ms")).toArray())
            f.claims.push_back(v.toDouble());
    }
    f.typed = int(typedKeys.size());
    Database db(location);
    if (!db.open())
        return f;
    QSqlQuery q(db.connection());
    QHash<QString, int> stored;
    if (q.exec(QStringLiteral("SELECT client_key FROM labels WHERE client_key IS NOT NULL")))
        while (q.next())
            ++stored[q.value(0).toString()];
    for (const QString &key : std::as_const(typedKeys))
        if (!stored.contains(key))
            ++f.lost;
    for (auto it = stored.cbegin(); it != stored.cend(); ++it) {
        f.written += it.value() > 0;
        f.doubled += it.value() - 1;
    }
    return f;
}

void print(const char *backend, const Figures &f, int annotators)
{
    std::printf("%-30s typed %6d  written %6d  lost %d  doubled %d  unsaved at the end %d\n",
                backend, f.typed, f.written, f.lost, f.doubled, f.unsaved);
    std::printf("%-30s %.0f labels/s over %.0f s, %d annotators\n", "", f.written / f.seconds,
                f.seconds, annotators);
    std::printf("%-30s write latency p50 %.1f ms  p95 %.1f ms  max %.0f ms (all writes)\n", "",
                percentile(f.latencies, 0.5), percentile(f.latencies, 0.95),
                f.latencies.empty() ? 0.0
                                    : *std::max_element(f.latencies.begin(), f.latencies.end()));
    std::printf("%-30s write latency p50 %.1f ms  p95 %.1f ms (typed while connected)\n", "",
                percentile(f.latenciesOnline, 0.5), percentile(f.latenciesOnline, 0.95));
    std::printf("%-30s next clip (claimNext) p50 %.1f ms  p95 %.1f ms\n", "",
                percentile(f.claims, 0.5), percentile(f.claims, 0.95));
}

} // namespace

int main(int argc, char **argv)
{
    QCoreApplication app(argc, argv);
    const QStringList args = QCoreApplication::arguments();
    if (args.size() == 7 && args[1] == QLatin1String("--child"))
        return child(args[2], args[3], args[4].toDouble(), args[5].toInt(), args[6]);

    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addOption({QStringLiteral("annotators"), QStringLiteral("Processes."),
                      QStringLiteral("N"), QStringLiteral("10")});
    parser.addOption({QStringLiteral("seconds"), QStringLiteral("How long they label."),
                      QStringLiteral("S"), QStringLiteral("120")});
    parser.addOption({QStringLiteral("port"), QStringLiteral("The benchmark's server port."),
                      QStringLiteral("P"), QStringLiteral("55441")});
    parser.addOption({QStringLiteral("clips"), QStringLiteral("Clips in the workspace."),
                      QStringLiteral("C"), QStringLiteral("2000")});
    parser.addOption({QStringLiteral("interval-ms"),
                      QStringLiteral("Each annotator's time between two labels."),
                      QStringLiteral("MS"), QStringLiteral("200")});
    parser.addOption({QStringLiteral("backends"), QStringLiteral("sqlite,postgresql"),
                      QStringLiteral("LIST"), QStringLiteral("sqlite,postgresql")});
    parser.process(app);
    const int annotators = parser.value(QStringLiteral("annotators")).toInt();
    const double seconds = parser.value(QStringLiteral("seconds")).toDouble();
    const int port = parser.value(QStringLiteral("port")).toInt();
    const int clips = parser.value(QStringLiteral("clips")).toInt();
    const int intervalMs = parser.value(QStringLiteral("interval-ms")).toInt();
    const QStringList backends = parser.value(QStringLiteral("backends")).split(QLatin1Char(','));
    std::printf("bench_team_labeling: %d annotator processes, a label every %d ms each, %.0f s, "
                "%d clips, on %s (%d cores)\n",
                annotators, intervalMs, seconds, clips, cpuModel().c_str(),
                QThread::idealThreadCount());
    QStringList members;
    for (int i = 0; i < annotators; ++i)
        members << QStringLiteral("annotator%1").arg(i + 1);
    QTemporaryDir dir;
    // The journals go here, not into the user's cache.
    qputenv("XDG_CACHE_HOME", dir.path().toUtf8());

    if (backends.contains(QLatin1String("sqlite"))) {
        const QString file = dir.filePath(QStringLiteral("team.emolens"));
        if (!seedWorkspace(file, clips))
            return 1;
        QDir().mkpath(dir.filePath(QStringLiteral("sqlite")));
        const Figures f =
            runTeam(file, members, seconds, intervalMs, dir.filePath(QStringLiteral("sqlite")), 0);
        print("SQLite file (reference)", f, annotators);
    }
    if (backends.contains(QLatin1String("postgresql"))) {
        QString folder;
        if (!server(QStringLiteral("start"), port, &folder))
            return 1;
        qputenv("PGPASSFILE", QDir(folder).filePath(QStringLiteral("pgpass")).toUtf8());
        {
            // The workspace's database, made over a plain connection to the maintenance one.
            QSqlDatabase raw =
                QSqlDatabase::addDatabase(QStringLiteral("QPSQL"), QStringLiteral("bench-admin"));
            raw.setHostName(QStringLiteral("127.0.0.1"));
            raw.setPort(port);
            raw.setUserName(QStringLiteral("emolens_test"));
            raw.setDatabaseName(QStringLiteral("postgres"));
            if (!raw.open() || !QSqlQuery(raw).exec(QStringLiteral("CREATE DATABASE team")))
                return 1;
            raw.close();
        }
        QSqlDatabase::removeDatabase(QStringLiteral("bench-admin"));
        const QString location =
            QStringLiteral("postgresql://emolens_test@127.0.0.1:%1/team").arg(port);
        if (!seedWorkspace(location, clips))
            return 1;
        {
            Database owner(location);
            if (!owner.open())
                return 1;
            TeamRepository team(owner);
            if (!team.setUp())
                return 1;
            for (const QString &m : members)
                if (!team.addMember(m, TeamRole::Annotator, QStringLiteral("pw-") + m))
                    return 1;
        }
        QDir().mkpath(dir.filePath(QStringLiteral("pg")));
        const Figures f = runTeam(location, members, seconds, intervalMs,
                                  dir.filePath(QStringLiteral("pg")), port);
        print("PostgreSQL, restart at half time", f, annotators);
        if (qEnvironmentVariableIsSet("EMOLENS_BENCH_KEEP_SERVER"))
            std::printf("server kept: /tmp/emolens-test-postgres-%d\n", port);
        else
            server(QStringLiteral("stop"), port);
    }
    std::printf("peak RSS of the coordinating process: %.0f MB\n", peakRssMb());
    return 0;
}
