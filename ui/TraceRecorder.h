#pragma once
// TraceRecorder: records one time-continuous trace while the clip plays. start() counts down
// (QSettings "traces/countdownSeconds", default 3; the lane shows it), then plays the clip
// from its start and samples the value the trace lane sets (pointer height, wheel, Up/Down)
// on the media clock: each time the player's cursor passes a sample time (every 1 / rateHz,
// default 25 Hz), that sample takes the value of the moment; a pause holds the recording, a
// seek backwards does not rewrite what is recorded. The trace ends when the cursor reaches the
// clip's end or on
// finish() (what was recorded is kept); cancel() (Esc) keeps nothing. The window stores the
// finished trace in the annotator's name. GUI thread only.

#include "store/Records.h"

#include <QMap>
#include <QObject>
#include <QTimer>

namespace emolens {

class PlayerBar;
class TraceView;

class TraceRecorder : public QObject
{
    Q_OBJECT

public:
    enum State { Idle, CountingDown, Recording };

    TraceRecorder(PlayerBar *player, TraceView *lane, QObject *parent = nullptr);

    // Starts a trace of `dimension` over the clip (durationSeconds long); false while one runs.
    bool start(qint64 utteranceId, double durationSeconds, const QString &dimension,
               double rateHz = 25);
    void finish();
    void cancel();
    State state() const { return m_state; }
    double value() const { return m_value; }
    void setValue(double value, const QString &input = QString());
    const std::vector<float> &samples() const { return m_samples; }

Q_SIGNALS:
    // A trace ended with at least one sample (annotator name and id left for the window).
    void finished(const emolens::TraceRecord &trace);
    void cancelled();
    void stateChanged(int state);

private:
    void tick();
    void onCursor(double seconds);
    void begin();
    void show();

    PlayerBar *m_player;
    TraceView *m_lane;
    QTimer m_countdown;
    State m_state = Idle;
    int m_secondsLeft = 0;
    qint64 m_utteranceId = 0;
    double m_durationSeconds = 0;
    QString m_dimension;
    double m_rateHz = 25;
    double m_value = 0;
    std::vector<float> m_samples;
    QMap<QString, int> m_inputs; // how often each input set the value while recording
    QMetaObject::Connection m_cursorConnection;
    QMetaObject::Connection m_endConnection;
};

} // namespace emolens
