#include "charts/PlotExport.h"

#include "corpus/DelimitedText.h"

#include <QAbstractItemModel>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QImage>
#include <QPainter>
#include <QSaveFile>
#include <QSettings>
#include <QSvgGenerator>
#include <QWidget>

namespace emolens {

namespace {

const QString kFolderKey = QStringLiteral("analysis/exportFolder");

QString ask(QWidget *parent, const QString &caption, const QString &name, const QString &filters,
            const QString &suffix)
{
    QSettings settings;
    const QString folder = settings.value(kFolderKey, QDir::homePath()).toString();
    QString selected;
    QString path = QFileDialog::getSaveFileName(
        parent, caption, QDir(folder).filePath(name + suffix), filters, &selected);
    if (path.isEmpty())
        return path;
    if (QFileInfo(path).suffix().isEmpty())
        path += selected.contains(QLatin1String("*.svg")) ? QStringLiteral(".svg") : suffix;
    settings.setValue(kFolderKey, QFileInfo(path).absolutePath());
    return path;
}

} // namespace

Status savePlot(QWidget *plot, const QString &path, const QString &title)
{
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == QLatin1String("svg")) {
        // QSvgGenerator reports no write errors: check that the folder takes a file first.
        QSaveFile probe(path);
        if (!probe.open(QIODevice::WriteOnly))
            return Status::failure(
                QStringLiteral("%1: cannot write: %2").arg(path, probe.errorString()));
        probe.cancelWriting();
        QSvgGenerator svg;
        svg.setFileName(path);
        svg.setTitle(title);
        svg.setDescription(QStringLiteral("EmoLens"));
        svg.setSize(plot->size());
        svg.setViewBox(QRect(QPoint(0, 0), plot->size()));
        QPainter painter;
        if (!painter.begin(&svg))
            return Status::failure(QStringLiteral("%1: cannot write the SVG").arg(path));
        plot->render(&painter);
        painter.end();
        if (QFileInfo(path).size() == 0)
            return Status::failure(QStringLiteral("%1: the SVG came out empty").arg(path));
        return Status::success();
    }
    if (suffix != QLatin1String("png"))
        return Status::failure(
            QStringLiteral("%1: images are saved as .png or .svg, not .%2").arg(path, suffix));
    const QImage image = plot->grab().toImage();
    if (image.isNull())
        return Status::failure(QStringLiteral("%1: there is no image to save").arg(path));
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || !image.save(&file, "PNG") || !file.commit())
        return Status::failure(
            QStringLiteral("%1: cannot write: %2").arg(path, file.errorString()));
    return Status::success();
}

Status saveTableCsv(const QAbstractItemModel *model, const QString &path)
{
    QString text;
    QStringList header;
    for (int c = 0; c < model->columnCount(); ++c)
        header << model->headerData(c, Qt::Horizontal).toString();
    text += delimitedLine(header);
    for (int r = 0; r < model->rowCount(); ++r) {
        QStringList fields;
        for (int c = 0; c < model->columnCount(); ++c)
            fields << model->index(r, c).data().toString();
        text += delimitedLine(fields);
    }
    return saveText(path, text);
}

Status saveText(const QString &path, const QString &text)
{
    QSaveFile file(path);
    const QByteArray bytes = text.toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(bytes) != bytes.size() || !file.commit())
        return Status::failure(
            QStringLiteral("%1: cannot write: %2").arg(path, file.errorString()));
    return Status::success();
}

QString askPlotPath(QWidget *parent, const QString &name)
{
    return ask(parent, QObject::tr("Save Image"), name,
               QObject::tr("PNG image (*.png);;SVG drawing (*.svg)"), QStringLiteral(".png"));
}

QString askCsvPath(QWidget *parent, const QString &name)
{
    return ask(parent, QObject::tr("Save Table"), name, QObject::tr("CSV table (*.csv)"),
               QStringLiteral(".csv"));
}

} // namespace emolens
