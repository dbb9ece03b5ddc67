#pragma once
// PlayerBar: plays the current clip (QMediaPlayer + QAudioOutput): play/pause, stop, loop
// over the selected region, playback speed, and a position / duration readout. The cursor it
// reports (cursorMoved) is interpolated between the player's coarse position updates by a
// 30 ms timer, so the line in the clip view glides instead of jumping.
//
// The media player is created on the first setClip(); without an audio device (offscreen
// tests, headless machines) the bar still works as a cursor, says so once (notice()) and shows
// "No sound" beside the buttons.
//
// Loop follows the selection: selecting a region switches Loop on, clearing it (or going to
// another clip) switches it off again; Loop switched on by hand, for the whole clip, stays.
// Owns its actions (Space, Stop, L) so the main window can put them in its menus.
// GUI thread only.

#include <QElapsedTimer>
#include <QWidget>

class QAction;
class QAudioOutput;
class QComboBox;
class QLabel;
class QMediaPlayer;
class QTimer;

namespace emolens {

class PlayerBar : public QWidget
{
    Q_OBJECT

public:
    explicit PlayerBar(QWidget *parent = nullptr);
    ~PlayerBar() override;

    void setClip(const QString &path, double durationSeconds);
    void clear();

    bool isPlaying() const { return m_playing; }
    double positionSeconds() const { return m_positionSeconds; }
    double playbackRate() const;

    QAction *playPauseAction() const { return m_playPause; }
    QAction *stopAction() const { return m_stop; }
    QAction *loopAction() const { return m_loop; }
    QAction *fasterAction() const { return m_faster; }
    QAction *slowerAction() const { return m_slower; }

public Q_SLOTS:
    void togglePlayPause();
    void play();
    void pause();
    void stop();
    void seek(double seconds);
    // The region that "Loop selection" repeats; end <= start means none.
    void setSelection(double startSeconds, double endSeconds);

    // False when the system has no audio output: Play still runs the cursor and the loop.
    static bool hasAudioOutput();

Q_SIGNALS:
    void cursorMoved(double seconds);
    // Playback ran to the clip's end (not looping): "play in turn" lists go on from here.
    void reachedEnd();
    // Something the user should know once, e.g. that there is no sound device.
    void notice(const QString &text);

private:
    void ensurePlayer();
    void onPlayerPosition(qint64 positionMs);
    void onTick();
    void setPlaying(bool playing);
    void moveCursor(double seconds);
    void updateReadout();
    void stepSpeed(int delta);
    void followClearedSelection();

    QMediaPlayer *m_player = nullptr;
    QAudioOutput *m_audioOutput = nullptr;
    QTimer *m_tick = nullptr;
    QElapsedTimer m_sincePosition;
    QAction *m_playPause = nullptr;
    QAction *m_stop = nullptr;
    QAction *m_loop = nullptr;
    QAction *m_faster = nullptr;
    QAction *m_slower = nullptr;
    QComboBox *m_speed = nullptr;
    QLabel *m_readout = nullptr;

    QString m_path;
    double m_durationSeconds = 0;
    double m_positionSeconds = 0;
    double m_anchorSeconds = 0; // the last position the player reported
    double m_selectionStart = 0;
    double m_selectionEnd = 0;
    bool m_playing = false;
    bool m_loopFromSelection = false; // Loop was switched on by a selection, and follows it
    bool m_toldNoSound = false;
    QLabel *m_noSound = nullptr;
};

} // namespace emolens
