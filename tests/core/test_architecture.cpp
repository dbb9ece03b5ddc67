// The layer rules of ARCHITECTURE.md, checked on the source tree: core/ and models/ include
// no QtGui/QtWidgets (or Multimedia/Charts) header, models/ includes no Qt header at all, and
// no layer's CMakeLists links a layer above it, and Torch headers stay in a few .cpp files
// above models/.

#include "TestPaths.h"

#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QRegularExpression>
#include <QSet>
#include <QTest>

namespace {

// Every public header name of the given Qt modules, e.g. "QWidget", "qpainter.h".
QSet<QString> headersOf(const QStringList &modules)
{
    QSet<QString> names;
    const QDir root(QStringLiteral(EMOLENS_QT_HEADERS));
    for (const QString &module : modules) {
        names.insert(module);
        QDirIterator it(root.filePath(module), QDir::Files);
        while (it.hasNext()) {
            it.next();
            names.insert(it.fileName());
        }
    }
    return names;
}

// "path:line: #include <X>" for every include in `folder` whose header is in `forbidden`
// (by name or by "Module/..." prefix).
QStringList violations(const QString &folder, const QSet<QString> &forbidden,
                       const QStringList &modules)
{
    QStringList found;
    static const QRegularExpression include(
        QStringLiteral("^\\s*#\\s*include\\s*[<\"]([^>\"]+)[>\"]"));
    QDirIterator it(QDir(emolens::test::sourceRoot()).filePath(folder),
                    {QStringLiteral("*.h"), QStringLiteral("*.cpp"), QStringLiteral("*.hpp")},
                    QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString path = it.next();
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            continue;
        int lineNumber = 0;
        while (!f.atEnd()) {
            const QString line = QString::fromUtf8(f.readLine());
            ++lineNumber;
            const auto m = include.match(line);
            if (!m.hasMatch())
                continue;
            const QString header = m.captured(1);
            const QString module = header.section(QLatin1Char('/'), 0, 0);
            if (forbidden.contains(header) ||
                (header.contains(QLatin1Char('/')) && modules.contains(module)))
                found << QStringLiteral("%1:%2: %3").arg(path).arg(lineNumber).arg(line.trimmed());
        }
    }
    return found;
}

} // namespace

class ArchitectureTest : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void qtHeadersAreWhereTheScanLooks()
    {
        // Guards the checks below against passing because they looked in the wrong place.
        const QSet<QString> gui = headersOf({QStringLiteral("QtGui"), QStringLiteral("QtWidgets")});
        QVERIFY(gui.contains(QStringLiteral("QWidget")));
        QVERIFY(gui.contains(QStringLiteral("QPainter")));
        QVERIFY(QDir(QDir(emolens::test::sourceRoot()).filePath(QStringLiteral("core"))).exists());
    }

    void coreAndModelsHaveNoGuiHeaders()
    {
        const QStringList modules = {QStringLiteral("QtGui"), QStringLiteral("QtWidgets"),
                                     QStringLiteral("QtMultimedia"), QStringLiteral("QtCharts")};
        const QSet<QString> forbidden = headersOf(modules);
        const QStringList found = violations(QStringLiteral("core"), forbidden, modules) +
                                  violations(QStringLiteral("models"), forbidden, modules);
        QVERIFY2(found.isEmpty(), qPrintable(found.join(QLatin1Char('\n'))));
    }

    void modelsHaveNoQtHeaders()
    {
        QStringList modules;
        for (const QString &d :
             QDir(QStringLiteral(EMOLENS_QT_HEADERS))
                 .entryList({QStringLiteral("Qt*")}, QDir::Dirs | QDir::NoDotAndDotDot))
            modules << d;
        QVERIFY(modules.contains(QStringLiteral("QtCore")));
        const QStringList found = violations(QStringLiteral("models"), headersOf(modules), modules);
        QVERIFY2(found.isEmpty(), qPrintable(found.join(QLatin1Char('\n'))));
    }

    void torchStaysInAFewSourceFiles()
    {
        // ARCHITECTURE.md: Torch headers only in .cpp files above models/ (about 18 s of
        // compile per translation unit), and in as few of them as possible.
        const QStringList torch = {QStringLiteral("torch"), QStringLiteral("ATen"),
                                   QStringLiteral("c10")};
        QStringList found;
        for (const char *folder : {"core", "ui", "app"})
            found += violations(QLatin1String(folder), {}, torch);
        QSet<QString> files;
        QStringList inHeaders;
        const QDir root(emolens::test::sourceRoot());
        for (const QString &hit : std::as_const(found)) {
            const QString path = root.relativeFilePath(hit.section(QLatin1Char(':'), 0, 0));
            files.insert(path);
            if (path.endsWith(QLatin1String(".h")))
                inHeaders << hit;
        }
        // The scan sees the job's own Torch include (so it looks in the right place).
        QVERIFY(files.contains(QStringLiteral("core/jobs/ExtractFeaturesJob.cpp")));
        QVERIFY2(inHeaders.isEmpty(), qPrintable(inHeaders.join(QLatin1Char('\n'))));
        const QSet<QString> allowed = {QStringLiteral("core/features/EncoderCatalog.cpp"),
                                       QStringLiteral("core/jobs/ExtractFeaturesJob.cpp"),
                                       QStringLiteral("app/cli/FeaturesCommand.cpp")};
        QVERIFY2(files.subtract(allowed).isEmpty(),
                 qPrintable(QStringLiteral("Torch included outside the allowed files: ") +
                            QStringList(files.begin(), files.end()).join(QStringLiteral(", "))));
    }

    void layersLinkOnlyDownwards()
    {
        auto cmake = [](const QString &folder) {
            QFile f(QDir(emolens::test::sourceRoot())
                        .filePath(folder + QStringLiteral("/CMakeLists.txt")));
            return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
        };
        const QString models = cmake(QStringLiteral("models"));
        const QString core = cmake(QStringLiteral("core"));
        QVERIFY(!models.isEmpty() && !core.isEmpty());
        QVERIFY2(!models.contains(QStringLiteral("Qt6::")), "models/ links Qt");
        for (const char *banned :
             {"Qt6::Gui", "Qt6::Widgets", "Qt6::Multimedia", "Qt6::Charts", "emolens::ui"})
            QVERIFY2(!core.contains(QLatin1String(banned)), banned);
    }
};

QTEST_GUILESS_MAIN(ArchitectureTest)
#include "test_architecture.moc"
