#include "ClipView.h"

#include "CurveView.h"
#include "EmotionCurveView.h"
#include "SpectrogramView.h"
#include "TraceView.h"
#include "WaveformView.h"
#include "jobs/JobRunner.h"

#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QScrollBar>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

namespace emolens {

namespace {
constexpr double kMinimumSpanSeconds = 0.02; // 320 samples: single samples become visible
constexpr double kZoomStep = 1.5;
} // namespace

ClipView::ClipView(QWidget *parent) : QWidget(parent)
{
    m_title = new QLabel(tr("No clip selected"), this);
    m_title->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont titleFont = m_title->font();
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_zoomLabel = new QLabel(this);
    m_zoomLabel->setForegroundRole(QPalette::PlaceholderText);
    m_selectionLabel = new QLabel(this);
    m_selectionLabel->setObjectName(QStringLiteral("selectionLabel"));
    m_selectionLabel->setToolTip(
        tr("The selected region: drag on the clip to select, click to clear. Play plays it, "
           "Loop (L) repeats it."));
    m_selectionLabel->setStyleSheet(QStringLiteral(
        "QLabel { background: rgba(59, 130, 246, 40); border-radius: 3px; padding: 1px 6px; }"));
    m_selectionLabel->hide();

    auto makeButton = [this](const QString &text, const QString &tip) {
        auto *button = new QToolButton(this);
        button->setText(text);
        button->setToolTip(tip);
        button->setAutoRaise(true);
        return button;
    };
    QToolButton *zoomOutButton = makeButton(QStringLiteral("\u2212"), tr("Zoom out (-)"));
    QToolButton *zoomInButton = makeButton(QStringLiteral("+"), tr("Zoom in (+)"));
    QToolButton *fitButton = makeButton(tr("Fit"), tr("Zoom to fit the whole clip (0)"));
    connect(zoomOutButton, &QToolButton::clicked, this, &ClipView::zoomOut);
    connect(zoomInButton, &QToolButton::clicked, this, &ClipView::zoomIn);
    connect(fitButton, &QToolButton::clicked, this, &ClipView::zoomToFit);

    auto *header = new QHBoxLayout;
    header->setContentsMargins(4, 0, 4, 0);
    header->addWidget(m_title, 1);
    header->addWidget(m_selectionLabel);
    header->addSpacing(8);
    header->addWidget(m_zoomLabel);
    header->addSpacing(8);
    header->addWidget(zoomOutButton);
    header->addWidget(zoomInButton);
    header->addWidget(fitButton);

    m_waveform = new WaveformView(this);
    m_spectrogram = new SpectrogramView(this);
    m_curves = new CurveView(this);
    m_emotions = new EmotionCurveView(this);
    m_traces = new TraceView(this);
    m_scrollBar = new QScrollBar(Qt::Horizontal, this);
    connectView(m_waveform);
    connectView(m_spectrogram);
    connectView(m_curves);
    connectView(m_emotions);
    connectView(m_traces);
    connect(m_scrollBar, &QScrollBar::valueChanged, this, [this](int ms) {
        if (!m_updatingScrollBar)
            setView(ms / 1000.0, m_viewSpan);
    });

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addLayout(header);
    layout->addWidget(m_waveform, 5);
    layout->addWidget(m_spectrogram, 4);
    layout->addWidget(m_curves); // fixed height: the waveform and spectrogram take the rest
    layout->addWidget(m_emotions);
    layout->addWidget(m_traces); // no height until the clip has traces or one is recorded
    layout->addWidget(m_scrollBar);
    clearClip();
}

void ClipView::connectView(TimeRangeView *view)
{
    connect(view, &TimeRangeView::seekRequested, this, &ClipView::seekRequested);
    connect(view, &TimeRangeView::selectionChanged, this, &ClipView::setSelection);
    connect(view, &TimeRangeView::zoomRequested, this, &ClipView::zoomBy);
    connect(view, &TimeRangeView::scrollRequested, this, &ClipView::scrollBy);
}

void ClipView::loadClip(qint64 utteranceId, const QString &path, const QString &title,
                        double durationSeconds)
{
    ++m_loadGeneration;
    if (m_loader) {
        m_loader->cancel(); // its finished() is ignored: the generation moved on
        m_loader = nullptr;
    }
    m_utteranceId = utteranceId;
    m_title->setText(title);
    m_title->setToolTip(path);
    m_selectionStart = m_selectionEnd = 0;

    if (durationSeconds <= kSynchronousSeconds) {
        auto clip = std::make_shared<ClipAudio>();
        SilentProgress quiet;
        if (auto st = loadClipAudio(path, clip.get(), quiet); !st) {
            showClip(nullptr);
            m_waveform->setPlaceholderText(tr("Cannot read this clip: %1").arg(st.error()));
            Q_EMIT loadFailed(st.error());
            return;
        }
        showClip(std::move(clip));
        Q_EMIT clipLoaded(utteranceId);
        return;
    }

    showClip(nullptr);
    m_loading = true;
    const QString waiting =
        tr("Decoding %1 (%2 s)...").arg(QFileInfo(path).fileName()).arg(durationSeconds, 0, 'f', 0);
    m_waveform->setPlaceholderText(waiting);
    m_spectrogram->setPlaceholderText(waiting);
    m_curves->setPlaceholderText(waiting);
    auto result = std::make_shared<ClipAudio>();
    auto *runner = new JobRunner(this);
    m_loader = runner;
    const quint64 generation = m_loadGeneration;
    connect(runner, &JobRunner::finished, this,
            [this, runner, result, generation, utteranceId](const JobResult &outcome) {
                runner->deleteLater();
                const Status status = outcome.toStatus();
                if (generation != m_loadGeneration)
                    return; // the user moved on to another clip
                m_loader = nullptr;
                m_loading = false;
                if (!status) {
                    m_waveform->setPlaceholderText(
                        tr("Cannot read this clip: %1").arg(status.error()));
                    m_spectrogram->setPlaceholderText(QString());
                    m_curves->setPlaceholderText(QString());
                    Q_EMIT loadFailed(status.error());
                    return;
                }
                showClip(result);
                Q_EMIT clipLoaded(utteranceId);
                renderSpectrogram(result, generation);
            });
    runner->start(tr("Decode %1").arg(QFileInfo(path).fileName()),
                  [path, result](ProgressSink &progress) {
                      return loadClipWaveform(path, result.get(), progress);
                  });
}

void ClipView::renderSpectrogram(std::shared_ptr<const ClipAudio> clip, quint64 generation)
{
    // The waveform is up; the spectrogram and the curves of a long clip follow on their own
    // worker, so the user can already listen, zoom and label.
    m_spectrogram->setPlaceholderText(tr("Computing the spectrogram..."));
    m_curves->setPlaceholderText(tr("Computing pitch..."));
    auto spectrogram = std::make_shared<ClipSpectrogram>();
    auto curves = std::make_shared<AcousticCurves>();
    auto curvesStatus = std::make_shared<Status>();
    auto *runner = new JobRunner(this);
    m_loader = runner;
    connect(
        runner, &JobRunner::finished, this,
        [this, runner, spectrogram, curves, curvesStatus, generation](const JobResult &outcome) {
            runner->deleteLater();
            const Status status = outcome.toStatus();
            if (generation != m_loadGeneration)
                return;
            m_loader = nullptr;
            m_spectrogram->setPlaceholderText(
                status ? QString() : tr("No spectrogram: %1").arg(status.error()));
            if (status)
                m_spectrogram->setSpectrogram(spectrogram);
            m_curves->setPlaceholderText(
                *curvesStatus ? QString() : tr("No pitch curve: %1").arg(curvesStatus->error()));
            if (*curvesStatus)
                m_curves->setCurves(curves);
            Q_EMIT spectrogramReady();
        });
    runner->start(tr("Spectrogram and curves"),
                  [clip, spectrogram, curves, curvesStatus](ProgressSink &progress) {
                      // One failing does not stop the other: each view reports its own.
                      ScaledProgress drawing(progress, 0.0, 0.5);
                      const Status drawn = renderClipSpectrogram(*clip, spectrogram.get(), drawing);
                      if (progress.isCancelled())
                          return drawn;
                      ScaledProgress tracking(progress, 0.5, 1.0);
                      *curvesStatus = computeClipCurves(*clip, curves.get(), tracking);
                      return drawn;
                  });
}

void ClipView::clearClip()
{
    ++m_loadGeneration;
    if (m_loader) {
        m_loader->cancel();
        m_loader = nullptr;
    }
    m_utteranceId = 0;
    m_title->setText(tr("No clip selected"));
    m_title->setToolTip(QString());
    showClip(nullptr);
    m_waveform->setPlaceholderText(tr("Select an utterance in the table to see and hear it"));
    m_spectrogram->setPlaceholderText(QString());
    m_curves->setPlaceholderText(QString());
}

void ClipView::showClip(std::shared_ptr<const ClipAudio> clip)
{
    m_loading = false;
    m_clip = std::move(clip);
    m_selectionStart = m_selectionEnd = 0;
    updateSelectionLabel();
    m_waveform->setClip(m_clip);
    m_spectrogram->setClip(m_clip);
    m_spectrogram->setSpectrogram(m_clip ? m_clip->spectrogram : nullptr);
    m_curves->setClip(m_clip);
    m_emotions->setClip(m_clip);
    m_traces->setClip(m_clip);
    m_curves->setCurves(m_clip ? m_clip->curves : nullptr);
    m_waveform->setPlaceholderText(QString());
    m_spectrogram->setPlaceholderText(QString());
    m_curves->setPlaceholderText(QString());
    m_viewSpan = 0; // force the views to take the new range
    zoomToFit();
    setCursorSeconds(0);
}

void ClipView::zoomIn()
{
    zoomBy(kZoomStep, m_viewStart + m_viewSpan / 2);
}

void ClipView::zoomOut()
{
    zoomBy(1.0 / kZoomStep, m_viewStart + m_viewSpan / 2);
}

void ClipView::zoomToFit()
{
    setView(0, std::max(durationSeconds(), kMinimumSpanSeconds));
}

void ClipView::zoomBy(double factor, double anchorSeconds)
{
    if (!m_clip || factor <= 0)
        return;
    const double duration = std::max(durationSeconds(), kMinimumSpanSeconds);
    const double span = std::clamp(m_viewSpan / factor, kMinimumSpanSeconds, duration);
    // Keep the anchor at the same place on screen.
    const double anchorFraction = m_viewSpan > 0 ? (anchorSeconds - m_viewStart) / m_viewSpan : 0.5;
    setView(anchorSeconds - anchorFraction * span, span);
}

void ClipView::scrollBy(double deltaSeconds)
{
    setView(m_viewStart + deltaSeconds, m_viewSpan);
}

void ClipView::setView(double startSeconds, double spanSeconds)
{
    const double duration = std::max(durationSeconds(), kMinimumSpanSeconds);
    spanSeconds = std::clamp(spanSeconds, kMinimumSpanSeconds, duration);
    startSeconds = std::clamp(startSeconds, 0.0, duration - spanSeconds);
    m_viewStart = startSeconds;
    m_viewSpan = spanSeconds;
    m_waveform->setVisibleRange(startSeconds, startSeconds + spanSeconds);
    m_spectrogram->setVisibleRange(startSeconds, startSeconds + spanSeconds);
    m_curves->setVisibleRange(startSeconds, startSeconds + spanSeconds);
    m_emotions->setVisibleRange(startSeconds, startSeconds + spanSeconds);
    m_traces->setVisibleRange(startSeconds, startSeconds + spanSeconds);
    syncScrollBar();
    if (m_clip) {
        const double zoom = duration / spanSeconds;
        m_zoomLabel->setText(zoom < 1.01 ? tr("%1 s").arg(durationSeconds(), 0, 'f', 2)
                                         : tr("%1 - %2 s  (%3x)")
                                               .arg(startSeconds, 0, 'f', 2)
                                               .arg(startSeconds + spanSeconds, 0, 'f', 2)
                                               .arg(zoom, 0, 'f', zoom < 10 ? 1 : 0));
    } else {
        m_zoomLabel->clear();
    }
}

void ClipView::syncScrollBar()
{
    m_updatingScrollBar = true;
    const int totalMs = int(std::lround(durationSeconds() * 1000));
    const int spanMs = int(std::lround(m_viewSpan * 1000));
    m_scrollBar->setRange(0, std::max(0, totalMs - spanMs));
    m_scrollBar->setPageStep(std::max(1, spanMs));
    m_scrollBar->setSingleStep(std::max(1, spanMs / 10));
    m_scrollBar->setValue(int(std::lround(m_viewStart * 1000)));
    m_scrollBar->setEnabled(m_clip && totalMs > spanMs);
    m_updatingScrollBar = false;
}

void ClipView::setCursorSeconds(double seconds)
{
    m_waveform->setCursorSeconds(seconds);
    m_spectrogram->setCursorSeconds(seconds);
    m_curves->setCursorSeconds(seconds);
    m_emotions->setCursorSeconds(seconds);
    m_traces->setCursorSeconds(seconds);
    // Keep the cursor in view while playing a zoomed-in clip: page along with it.
    if (m_clip && m_viewSpan < durationSeconds() &&
        (seconds > m_viewStart + m_viewSpan || seconds < m_viewStart))
        setView(seconds - m_viewSpan * 0.1, m_viewSpan);
}

void ClipView::setSelection(double startSeconds, double endSeconds)
{
    if (endSeconds <= startSeconds)
        startSeconds = endSeconds = 0;
    if (startSeconds == m_selectionStart && endSeconds == m_selectionEnd)
        return;
    m_selectionStart = startSeconds;
    m_selectionEnd = endSeconds;
    m_waveform->setSelection(startSeconds, endSeconds);
    m_spectrogram->setSelection(startSeconds, endSeconds);
    m_curves->setSelection(startSeconds, endSeconds);
    m_emotions->setSelection(startSeconds, endSeconds);
    m_traces->setSelection(startSeconds, endSeconds);
    updateSelectionLabel();
    Q_EMIT selectionChanged(startSeconds, endSeconds);
}

void ClipView::updateSelectionLabel()
{
    if (!hasSelection()) {
        m_selectionLabel->hide();
        return;
    }
    // Milliseconds: a region is chosen to the syllable, and 0.01 s steps hide short ones.
    m_selectionLabel->setText(tr("Selected %1 \u2013 %2 s  (%3 s)")
                                  .arg(m_selectionStart, 0, 'f', 3)
                                  .arg(m_selectionEnd, 0, 'f', 3)
                                  .arg(m_selectionEnd - m_selectionStart, 0, 'f', 3));
    m_selectionLabel->show();
}

} // namespace emolens
