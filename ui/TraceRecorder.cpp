#include "TraceRecorder.h"

#include "PlayerBar.h"
#include "TraceView.h"

#include <QSettings>
#include <algorithm>
#include <cmath>

namespace emolens {

TraceRecorder::TraceRecorder(PlayerBar *player, TraceView *lane, QObject *parent)
    : QObject(parent), m_player(player), m_lane(lane)
{
    m_countdown.setInterval(1000);
    connect(&m_countdown, &QTimer::timeout, this, &TraceRecorder::tick);
    connect(m_lane, &TraceView::valueRequested, this, &TraceRecorder::setValue);
}

bool TraceRecorder::start(qint64 utteranceId, double durationSeconds, const QString &dimension,
                          double rateHz)
{
    if (m_state != Idle || utteranceId == 0 || !(durationSeconds > 0) || !(rateHz > 0))
        return false;
    m_utteranceId = utteranceId;
    m_durationSeconds = durationSeconds;
    m_dimension = dimension;
    m_rateHz = rateHz;
    m_value = 0;
    m_samples.clear();
    m_inputs.clear();
    m_player->pause();
    m_secondsLeft =
        std::max(0, QSettings().value(QStringLiteral("traces/countdownSeconds"), 3).toInt());
    m_state = CountingDown;
    Q_EMIT stateChanged(m_state);
    m_lane->setFocus();
    if (m_secondsLeft == 0) {
        begin();
    } else {
        show();
        m_countdown.start();
    }
    return true;
}

void TraceRecorder::tick()
{
    if (--m_secondsLeft > 0) {
        show();
        return;
    }
    m_countdown.stop();
    begin();
}

void TraceRecorder::begin()
{
    m_state = Recording;
    Q_EMIT stateChanged(m_state);
    m_cursorConnection = connect(m_player, &PlayerBar::cursorMoved, this, &TraceRecorder::onCursor);
    m_endConnection = connect(m_player, &PlayerBar::reachedEnd, this, &TraceRecorder::finish);
    m_player->seek(0);
    show();
    m_player->play();
}

void TraceRecorder::setValue(double value, const QString &input)
{
    m_value = std::clamp(value, -1.0, 1.0);
    if (m_state == Recording && !input.isEmpty())
        m_inputs[input] += 1;
    if (m_state != Idle)
        show();
}

void TraceRecorder::onCursor(double seconds)
{
    if (m_state != Recording)
        return;
    // Every sample time the cursor has passed (and the clip has) takes the value of now.
    const std::size_t last = std::size_t(std::max(0.0, m_durationSeconds * m_rateHz - 1e-9));
    const double reached = std::min(seconds * m_rateHz + 1e-9, double(last));
    if (reached < 0)
        return;
    const std::size_t upTo = std::size_t(std::floor(reached));
    if (m_samples.size() <= upTo) {
        m_samples.resize(upTo + 1, float(m_value));
        show();
    }
    // The clip's last sample ends the trace, also where no player reports the end of the
    // media (no sound device: the cursor runs on the clock alone, up to the store's duration).
    if (upTo >= last)
        QTimer::singleShot(0, this, &TraceRecorder::finish);
}

void TraceRecorder::show()
{
    m_lane->showRecording(m_dimension, m_samples, m_rateHz, m_value,
                          m_state == CountingDown ? m_secondsLeft : 0);
}

void TraceRecorder::finish()
{
    if (m_state == Idle)
        return;
    if (m_state == CountingDown) {
        cancel();
        return;
    }
    disconnect(m_cursorConnection);
    disconnect(m_endConnection);
    m_player->pause();
    m_state = Idle;
    m_lane->stopRecording();
    Q_EMIT stateChanged(m_state);
    if (m_samples.empty()) {
        Q_EMIT cancelled();
        return;
    }
    TraceRecord trace;
    trace.utteranceId = m_utteranceId;
    trace.dimension = m_dimension;
    trace.rateHz = m_rateHz;
    trace.samples = m_samples;
    // How the value was set most often; "mouse" when it never moved.
    trace.input = QStringLiteral("mouse");
    int most = 0;
    for (auto it = m_inputs.cbegin(); it != m_inputs.cend(); ++it)
        if (it.value() > most) {
            most = it.value();
            trace.input = it.key();
        }
    m_samples.clear();
    Q_EMIT finished(trace);
}

void TraceRecorder::cancel()
{
    if (m_state == Idle)
        return;
    m_countdown.stop();
    disconnect(m_cursorConnection);
    disconnect(m_endConnection);
    if (m_state == Recording)
        m_player->pause();
    m_state = Idle;
    m_samples.clear();
    m_lane->stopRecording();
    Q_EMIT stateChanged(m_state);
    Q_EMIT cancelled();
}

} // namespace emolens
