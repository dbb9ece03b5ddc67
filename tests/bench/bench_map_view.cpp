// bench_map_view: what the t-SNE map costs to show, zoom, pan and hover with many clips, next
// to the reference a plotting library gives: Qt Charts' QScatterSeries with the same points in
// a QChartView of the same size. Prints the time to take the points (our hit-test grid and
// fit), one full repaint (the first draw, the whole map again, after zoom steps in and out),
// one cached repaint (hover), the hit test under the pointer, and a rubber-band selection of half
// the points. A repaint under 33 ms keeps 30 frames a second while zooming and panning.
//
// Usage: QT_QPA_PLATFORM=offscreen bench_map_view [POINTS]   (default 100000)

#include "BenchMachine.h"
#include "charts/TsneMapView.h"

#include <QApplication>
#include <QChart>
#include <QChartView>
#include <QElapsedTimer>
#include <QImage>
#include <QPainter>
#include <QScatterSeries>
#include <QValueAxis>
#include <cstdio>
#include <random>

using namespace emolens;

namespace {

double msSince(const QElapsedTimer &t)
{
    return t.nsecsElapsed() / 1e6;
}

// Renders the widget as the screen would, into an image (the paint path of a repaint).
double repaintMs(QWidget *widget, QImage *target)
{
    QElapsedTimer t;
    t.start();
    QPainter p(target);
    widget->render(&p);
    p.end();
    return msSince(t);
}

} // namespace

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    const int n = argc > 1 ? std::max(10, atoi(argv[1])) : 100000;
    const QSize size(1200, 800);
    std::printf("bench_map_view: %d points in %dx%d, on %s\n", n, size.width(), size.height(),
                cpuModel().c_str());

    // Twenty Gaussian clusters of eight classes, like a map of many clips.
    std::mt19937 rng(7);
    std::normal_distribution<float> spread(0.f, 2.5f);
    std::uniform_real_distribution<float> centre(-60.f, 60.f);
    std::vector<float> centres(40);
    for (float &c : centres)
        c = centre(rng);
    QList<qint64> ids;
    std::vector<float> xy;
    std::vector<int> group;
    for (int i = 0; i < n; ++i) {
        const int c = i % 20;
        ids << i + 1;
        xy.push_back(centres[std::size_t(c) * 2] + spread(rng));
        xy.push_back(centres[std::size_t(c) * 2 + 1] + spread(rng));
        group.push_back(c % 8);
    }
    QStringList names;
    QList<QColor> colours;
    for (int g = 0; g < 8; ++g) {
        names << QStringLiteral("class %1").arg(g);
        colours << QColor::fromHsv(g * 45, 200, 220);
    }

    TsneMapView view;
    view.resize(size);
    view.setAttribute(Qt::WA_DontShowOnScreen);
    view.show();
    QImage target(size, QImage::Format_ARGB32_Premultiplied);
    QElapsedTimer t;
    t.start();
    view.setPoints(ids, xy);
    view.setGroups(names, colours, group);
    const double take = msSince(t);
    const double first = repaintMs(&view, &target);
    const double cached = repaintMs(&view, &target);
    double zoom = 0, pan = 0;
    const int steps = 10;
    for (int i = 0; i < steps; ++i) {
        view.zoomBy(1.25);
        zoom += repaintMs(&view, &target);
    }
    for (int i = 0; i < steps; ++i) {
        view.zoomBy(0.8);
        pan += repaintMs(&view, &target);
    }
    double whole = 0;
    for (int i = 0; i < steps; ++i) {
        view.fitView(); // every dot in view again
        whole += repaintMs(&view, &target);
    }
    std::uniform_int_distribution<int> px(0, size.width() - 1), py(0, size.height() - 1);
    t.restart();
    int hits = 0;
    const int probes = 20000;
    for (int i = 0; i < probes; ++i)
        hits += view.pointAt(QPointF(px(rng), py(rng))) >= 0 ? 1 : 0;
    const double hitUs = msSince(t) * 1000 / probes;
    t.restart();
    QList<qint64> half;
    for (int i = 0; i < n; ++i)
        if (view.screenPosition(i).x() < size.width() / 2.0)
            half << ids[i];
    view.setSelection(half);
    const double select = msSince(t);
    const double selectedRepaint = repaintMs(&view, &target);

    std::printf("ours (TsneMapView):\n");
    std::printf("  take the points (grid, fit)  %8.1f ms\n", take);
    std::printf("  first repaint                %8.1f ms\n", first);
    std::printf("  cached repaint (hover)       %8.1f ms\n", cached);
    std::printf("  repaint after a zoom step    %8.1f ms (mean of %d)\n", zoom / steps, steps);
    std::printf("  repaint after a zoom out     %8.1f ms (mean of %d)\n", pan / steps, steps);
    std::printf("  repaint of the whole map     %8.1f ms (mean of %d)\n", whole / steps, steps);
    std::printf("  hit test under the pointer   %8.2f us (%d of %d probes on a dot)\n", hitUs, hits,
                probes);
    std::printf("  select half by rectangle     %8.1f ms, then a repaint %.1f ms\n", select,
                selectedRepaint);
    std::printf("  peak memory so far           %8.0f MB\n", peakRssMb());

    // The reference: Qt Charts, one scatter series per class, in a QChartView.
    QChart *chart = new QChart;
    QList<QScatterSeries *> series;
    for (int g = 0; g < 8; ++g) {
        auto *s = new QScatterSeries;
        s->setMarkerSize(5);
        s->setColor(colours[g]);
        s->setBorderColor(colours[g].darker(130));
        series << s;
    }
    t.restart();
    QList<QList<QPointF>> points(8);
    for (int i = 0; i < n; ++i)
        points[group[std::size_t(i)]]
            << QPointF(xy[std::size_t(i) * 2], xy[std::size_t(i) * 2 + 1]);
    for (int g = 0; g < 8; ++g) {
        series[g]->replace(points[g]);
        chart->addSeries(series[g]);
    }
    chart->createDefaultAxes();
    chart->legend()->hide();
    QChartView chartView(chart);
    chartView.resize(size);
    chartView.setAttribute(Qt::WA_DontShowOnScreen);
    chartView.show();
    const double chartTake = msSince(t);
    const double chartFirst = repaintMs(&chartView, &target);
    const double chartAgain = repaintMs(&chartView, &target);
    chart->zoom(1.25);
    const double chartZoom = repaintMs(&chartView, &target);
    std::printf("reference (Qt Charts QScatterSeries in a QChartView):\n");
    std::printf("  take the points              %8.1f ms\n", chartTake);
    std::printf("  first repaint                %8.1f ms\n", chartFirst);
    std::printf("  repaint again                %8.1f ms\n", chartAgain);
    std::printf("  repaint after a zoom step    %8.1f ms\n", chartZoom);
    std::printf("  peak memory (both)           %8.0f MB\n", peakRssMb());
    return 0;
}
