#pragma once
// PlotExport: what every analysis view's Save buttons do - a plot to PNG (its pixels, at the
// screen's pixel ratio) or SVG (vectors, by rendering the widget into an SVG generator),
// chosen by the file's suffix, and a table model to CSV (its header, then each row as shown;
// fields quoted as core/corpus/DelimitedText does). Errors name the file and the problem.
// The save dialogs start in the folder used last (QSettings "analysis/exportFolder").
//
// GUI thread only.

#include "common/Status.h"

#include <QString>

class QAbstractItemModel;
class QWidget;

namespace emolens {

// Writes `plot` as PNG or SVG by the suffix of `path` (.png, .svg); `title` names the SVG.
Status savePlot(QWidget *plot, const QString &path, const QString &title);
// Writes text (UTF-8) to path, all or nothing.
Status saveText(const QString &path, const QString &text);
// Writes the model's header and rows (Qt::DisplayRole) as CSV.
Status saveTableCsv(const QAbstractItemModel *model, const QString &path);
// The save dialogs: an empty string when the user cancelled. `name` is the suggested base name.
QString askPlotPath(QWidget *parent, const QString &name);
QString askCsvPath(QWidget *parent, const QString &name);

} // namespace emolens
