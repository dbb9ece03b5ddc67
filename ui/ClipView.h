#pragma once
// ClipView: the clip under study - waveform over spectrogram over pitch and energy curves, all
// always showing the same time range - with a horizontal scroll bar, zoom (Ctrl+wheel on either
// view, zoomIn/zoomOut/ zoomToFit for the menu's +/-/0), a playback cursor and a selected region.
//
// Loading: a clip up to kSynchronousSeconds long is decoded on the spot (a few ms); a longer
// one is decoded on a JobRunner thread while the views say "Decoding...", and its spectrogram
// and curves follow from a second background step once the waveform shows; switching clips
// while either runs cancels it and ignores its result. GUI thread only.

#include "ClipAudio.h"

#include <QWidget>
#include <memory>

class QLabel;
class QScrollBar;
class QToolButton;

namespace emolens {

class CurveView;
class EmotionCurveView;
class JobRunner;
class SpectrogramView;
class TimeRangeView;
class TraceView;
class WaveformView;

class ClipView : public QWidget
{
    Q_OBJECT

public:
    static constexpr double kSynchronousSeconds = 30;

    explicit ClipView(QWidget *parent = nullptr);

    // durationSeconds is the store's figure, used to choose how to decode.
    void loadClip(qint64 utteranceId, const QString &path, const QString &title,
                  double durationSeconds);
    void clearClip();

    qint64 utteranceId() const { return m_utteranceId; }
    bool isLoading() const { return m_loading; }
    const std::shared_ptr<const ClipAudio> &clip() const { return m_clip; }
    double durationSeconds() const { return m_clip ? m_clip->durationSeconds() : 0; }
    double visibleStartSeconds() const { return m_viewStart; }
    double visibleSeconds() const { return m_viewSpan; }
    double selectionStartSeconds() const { return m_selectionStart; }
    double selectionEndSeconds() const { return m_selectionEnd; }
    bool hasSelection() const { return m_selectionEnd > m_selectionStart; }

    // "Selected 0.52 - 1.31 s (0.79 s)" while a region is selected; hidden otherwise.
    QLabel *selectionLabel() const { return m_selectionLabel; }
    WaveformView *waveformView() const { return m_waveform; }
    SpectrogramView *spectrogramView() const { return m_spectrogram; }
    CurveView *curveView() const { return m_curves; }
    // The active model's per-frame emotion posteriors (the window fills it).
    EmotionCurveView *emotionView() const { return m_emotions; }
    // The annotators' time-continuous traces, and the one being recorded (the window fills it).
    TraceView *traceView() const { return m_traces; }

public Q_SLOTS:
    void zoomIn();
    void zoomOut();
    void zoomToFit();
    void setCursorSeconds(double seconds);
    void setSelection(double startSeconds, double endSeconds);

Q_SIGNALS:
    void seekRequested(double seconds);
    void selectionChanged(double startSeconds, double endSeconds);
    void clipLoaded(qint64 utteranceId);
    void loadFailed(const QString &message);
    // A long clip's spectrogram and pitch/energy curves arrived (short clips have theirs with
    // clipLoaded()).
    void spectrogramReady();

private:
    void zoomBy(double factor, double anchorSeconds);
    void setView(double startSeconds, double spanSeconds);
    void scrollBy(double deltaSeconds);
    void showClip(std::shared_ptr<const ClipAudio> clip);
    // The spectrogram and the curves of a long clip, in one background step.
    void renderSpectrogram(std::shared_ptr<const ClipAudio> clip, quint64 generation);
    void syncScrollBar();
    void connectView(TimeRangeView *view);
    void updateSelectionLabel();

    WaveformView *m_waveform = nullptr;
    SpectrogramView *m_spectrogram = nullptr;
    CurveView *m_curves = nullptr;
    TraceView *m_traces = nullptr;
    EmotionCurveView *m_emotions = nullptr;
    QScrollBar *m_scrollBar = nullptr;
    QLabel *m_title = nullptr;
    QLabel *m_zoomLabel = nullptr;
    QLabel *m_selectionLabel = nullptr; // start, end and length of the selected region

    std::shared_ptr<const ClipAudio> m_clip;
    qint64 m_utteranceId = 0;
    quint64 m_loadGeneration = 0;
    bool m_loading = false;
    JobRunner *m_loader = nullptr; // the decode in flight, if any
    double m_viewStart = 0;
    double m_viewSpan = 1;
    double m_selectionStart = 0;
    double m_selectionEnd = 0;
    bool m_updatingScrollBar = false;
};

} // namespace emolens
