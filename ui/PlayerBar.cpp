#include "PlayerBar.h"

#include <QAction>
#include <QAudioDevice>
#include <QAudioOutput>
#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMediaDevices>
#include <QMediaPlayer>
#include <QStyle>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <cmath>

namespace emolens {

namespace {

constexpr double kRates[] = {0.5, 0.75, 1.0, 1.25, 1.5, 2.0};
constexpr int kNormalRateIndex = 2;

QString clockText(double seconds)
{
    const int totalCs = int(std::lround(std::max(0.0, seconds) * 100));
    return QStringLiteral("%1:%2.%3")
        .arg(totalCs / 6000)
        .arg((totalCs / 100) % 60, 2, 10, QLatin1Char('0'))
        .arg(totalCs % 100, 2, 10, QLatin1Char('0'));
}

} // namespace

PlayerBar::PlayerBar(QWidget *parent) : QWidget(parent)
{
    m_playPause = new QAction(style()->standardIcon(QStyle::SP_MediaPlay), tr("&Play"), this);
    m_playPause->setShortcut(Qt::Key_Space);
    m_playPause->setToolTip(tr("Play / pause (Space)"));
    m_stop = new QAction(style()->standardIcon(QStyle::SP_MediaStop), tr("&Stop"), this);
    m_stop->setShortcut(QKeySequence(Qt::SHIFT | Qt::Key_Space));
    m_stop->setToolTip(tr("Stop and go back to the start (Shift+Space)"));
    m_loop = new QAction(tr("&Loop Selection"), this);
    m_loop->setCheckable(true);
    m_loop->setShortcut(Qt::Key_L);
    // "Loop" on the button (the menu says "Loop Selection"): the bar must fit a small window.
    m_loop->setIconText(tr("Loop"));
    m_loop->setToolTip(tr("Repeat the selected region, or the whole clip without one (L)"));
    m_faster = new QAction(tr("&Faster"), this);
    m_faster->setShortcut(Qt::Key_BracketRight);
    m_slower = new QAction(tr("S&lower"), this);
    m_slower->setShortcut(Qt::Key_BracketLeft);
    connect(m_loop, &QAction::triggered, this, [this] { m_loopFromSelection = false; });
    connect(m_playPause, &QAction::triggered, this, &PlayerBar::togglePlayPause);
    connect(m_stop, &QAction::triggered, this, &PlayerBar::stop);
    connect(m_faster, &QAction::triggered, this, [this] { stepSpeed(+1); });
    connect(m_slower, &QAction::triggered, this, [this] { stepSpeed(-1); });

    auto button = [this](QAction *action, bool withText) {
        auto *b = new QToolButton(this);
        b->setDefaultAction(action);
        b->setToolButtonStyle(withText ? Qt::ToolButtonTextBesideIcon : Qt::ToolButtonIconOnly);
        b->setAutoRaise(true);
        return b;
    };
    m_speed = new QComboBox(this);
    for (double rate : kRates)
        m_speed->addItem(QStringLiteral("%1x").arg(rate), rate);
    m_speed->setCurrentIndex(kNormalRateIndex);
    m_speed->setToolTip(tr("Playback speed ([ slower, ] faster)"));
    m_speed->setFocusPolicy(Qt::NoFocus);
    connect(m_speed, &QComboBox::currentIndexChanged, this, [this] {
        if (m_player)
            m_player->setPlaybackRate(playbackRate());
    });
    m_readout = new QLabel(this);
    m_readout->setMinimumWidth(
        m_readout->fontMetrics().horizontalAdvance(QStringLiteral("00:00.00 / 00:00.00  ")));
    m_readout->setAlignment(Qt::AlignRight | Qt::AlignVCenter);
    QFont mono = m_readout->font();
    mono.setStyleHint(QFont::Monospace);
    mono.setFamily(QStringLiteral("monospace"));
    m_readout->setFont(mono);

    auto *loopButton = button(m_loop, true);
    loopButton->setIcon(style()->standardIcon(QStyle::SP_BrowserReload));
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->addWidget(button(m_playPause, true));
    layout->addWidget(button(m_stop, false));
    layout->addWidget(loopButton);
    layout->addSpacing(8);
    layout->addWidget(m_speed);
    m_noSound = new QLabel(tr("No sound device"), this);
    m_noSound->setToolTip(tr("No audio output was found: the cursor and the loop run, silently. "
                             "Connect a sound device and restart EmoLens to hear the clips."));
    m_noSound->setStyleSheet(QStringLiteral("QLabel { color: #9a5b00; }"));
    m_noSound->hide();
    layout->addSpacing(12);
    layout->addWidget(m_noSound);
    layout->addStretch(1);
    layout->addWidget(m_readout);

    m_tick = new QTimer(this);
    m_tick->setInterval(30);
    connect(m_tick, &QTimer::timeout, this, &PlayerBar::onTick);
    clear();
}

PlayerBar::~PlayerBar()
{
    if (m_player)
        m_player->stop();
}

double PlayerBar::playbackRate() const
{
    return m_speed->currentData().toDouble();
}

void PlayerBar::ensurePlayer()
{
    if (m_player)
        return;
    m_player = new QMediaPlayer(this);
    m_audioOutput = new QAudioOutput(this);
    m_player->setAudioOutput(m_audioOutput);
    m_player->setPlaybackRate(playbackRate());
    connect(m_player, &QMediaPlayer::positionChanged, this, &PlayerBar::onPlayerPosition);
    connect(m_player, &QMediaPlayer::playbackStateChanged, this,
            [this](QMediaPlayer::PlaybackState state) {
                if (state != QMediaPlayer::PlayingState && m_playing) {
                    // Reached the end (or the backend gave up): rewind the loop or stop cleanly.
                    if (m_loop->isChecked() &&
                        m_player->mediaStatus() == QMediaPlayer::EndOfMedia) {
                        seek(m_selectionEnd > m_selectionStart ? m_selectionStart : 0);
                        m_player->play();
                        return;
                    }
                    setPlaying(false);
                    if (m_player->mediaStatus() == QMediaPlayer::EndOfMedia) {
                        moveCursor(m_durationSeconds);
                        Q_EMIT reachedEnd();
                    }
                }
            });
}

void PlayerBar::setClip(const QString &path, double durationSeconds)
{
    ensurePlayer();
    setPlaying(false);
    m_player->stop();
    m_path = path;
    m_durationSeconds = durationSeconds;
    if (m_selectionEnd > m_selectionStart)
        followClearedSelection();
    m_selectionStart = m_selectionEnd = 0;
    m_player->setSource(QUrl::fromLocalFile(path));
    m_anchorSeconds = 0;
    moveCursor(0);
    setEnabled(true);
    for (QAction *action : {m_playPause, m_stop, m_loop})
        action->setEnabled(true);
}

void PlayerBar::clear()
{
    if (m_player) {
        m_player->stop();
        m_player->setSource(QUrl());
    }
    setPlaying(false);
    m_path.clear();
    m_durationSeconds = 0;
    m_positionSeconds = 0;
    updateReadout();
    setEnabled(false);
    for (QAction *action : {m_playPause, m_stop, m_loop})
        action->setEnabled(false);
}

void PlayerBar::togglePlayPause()
{
    if (m_playing)
        pause();
    else
        play();
}

bool PlayerBar::hasAudioOutput()
{
    return !QMediaDevices::audioOutputs().isEmpty();
}

void PlayerBar::play()
{
    if (!m_player || m_path.isEmpty())
        return;
    if (!m_toldNoSound && !hasAudioOutput()) {
        m_toldNoSound = true;
        m_noSound->show();
        Q_EMIT notice(tr("No audio output device was found: clips play silently (the cursor "
                         "and the loop still run)"));
    }
    const bool region = m_selectionEnd > m_selectionStart;
    // Starting outside the looped region (or at the very end) starts from its beginning.
    if (m_loop->isChecked() && region &&
        (m_positionSeconds < m_selectionStart || m_positionSeconds >= m_selectionEnd))
        seek(m_selectionStart);
    else if (m_positionSeconds >= m_durationSeconds - 0.01)
        seek(region ? m_selectionStart : 0);
    m_player->play();
    setPlaying(true);
}

void PlayerBar::pause()
{
    if (m_player)
        m_player->pause();
    setPlaying(false);
}

void PlayerBar::stop()
{
    if (m_player)
        m_player->pause();
    setPlaying(false);
    seek(m_selectionEnd > m_selectionStart ? m_selectionStart : 0);
}

void PlayerBar::seek(double seconds)
{
    seconds = std::clamp(seconds, 0.0, std::max(0.0, m_durationSeconds));
    if (m_player)
        m_player->setPosition(qint64(std::llround(seconds * 1000)));
    m_anchorSeconds = seconds;
    m_sincePosition.restart();
    moveCursor(seconds);
}

void PlayerBar::setSelection(double startSeconds, double endSeconds)
{
    const bool hadRegion = m_selectionEnd > m_selectionStart;
    m_selectionStart = startSeconds;
    m_selectionEnd = std::max(startSeconds, endSeconds);
    const bool region = m_selectionEnd > m_selectionStart;
    if (region && !hadRegion && !m_loop->isChecked()) {
        m_loop->setChecked(true);
        m_loopFromSelection = true;
    } else if (!region && hadRegion) {
        followClearedSelection();
    }
}

void PlayerBar::followClearedSelection()
{
    if (m_loopFromSelection)
        m_loop->setChecked(false);
    m_loopFromSelection = false;
}

void PlayerBar::onPlayerPosition(qint64 positionMs)
{
    if (!m_playing)
        return;
    m_anchorSeconds = positionMs / 1000.0;
    m_sincePosition.restart();
}

void PlayerBar::onTick()
{
    if (!m_playing)
        return;
    double seconds = m_anchorSeconds + m_sincePosition.elapsed() / 1000.0 * playbackRate();
    const bool region = m_selectionEnd > m_selectionStart;
    if (m_loop->isChecked() && region && seconds >= m_selectionEnd) {
        seek(m_selectionStart);
        return;
    }
    if (region && !m_loop->isChecked() && m_positionSeconds < m_selectionEnd &&
        seconds >= m_selectionEnd) {
        // Playing a selection without loop stops at its end, like most annotation tools.
        pause();
        moveCursor(m_selectionEnd);
        return;
    }
    moveCursor(std::min(seconds, m_durationSeconds));
}

void PlayerBar::setPlaying(bool playing)
{
    m_playing = playing;
    m_playPause->setText(playing ? tr("&Pause") : tr("&Play"));
    m_playPause->setIcon(
        style()->standardIcon(playing ? QStyle::SP_MediaPause : QStyle::SP_MediaPlay));
    if (playing) {
        m_anchorSeconds = m_positionSeconds;
        m_sincePosition.restart();
        m_tick->start();
    } else {
        m_tick->stop();
    }
}

void PlayerBar::moveCursor(double seconds)
{
    m_positionSeconds = seconds;
    updateReadout();
    Q_EMIT cursorMoved(seconds);
}

void PlayerBar::updateReadout()
{
    m_readout->setText(
        QStringLiteral("%1 / %2").arg(clockText(m_positionSeconds), clockText(m_durationSeconds)));
}

void PlayerBar::stepSpeed(int delta)
{
    m_speed->setCurrentIndex(std::clamp(m_speed->currentIndex() + delta, 0, m_speed->count() - 1));
}

} // namespace emolens
