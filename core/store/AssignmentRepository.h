#pragma once
// AssignmentRepository: which clip a team member labels next, and the settings the team
// shares.
//
// Work assignment (both backends; it matters on a server):
// - overlap (workspace setting "overlap", default 1): how many different people label each
//   clip.
// - claimNext() hands a person one clip that still needs labels, that they have not labeled
//   and that nobody else holds a claim on, and claims it for them until it expires. Order
//   (our default, docs/team.md): clips that some but not enough people labeled first, fewest
//   labels missing first - a started clip is finished before a new one is begun, so its
//   agreement can be measured early; within that, the newest active-learning round's ranking
//   where it ranked the clip, then the clip's id.
// - A claim lasts claimSeconds(): four times the team's median time between two labels of one
//   person (gaps over 30 minutes are breaks and left out), at least 2 and at most 30
//   minutes; 10 minutes before anyone has labeled. An expired claim is deleted by the next
//   claimNext() of anyone, so the clip really goes to someone else.
// - A person holds one claim at a time: claimNext() gives back their unfinished claim first.
//   A claim ends when its holder labels the clip (the next claimNext() of anyone drops it).
// Two people asking at once never get the same clip: the clip's primary key in clip_claims
// takes one claim per clip, and whoever loses the race picks again. claimNext() takes no
// workspace-wide lock, so a team asking for clips does not queue behind one another's label
// writes. A clip picked by two at the same moment may so get one label more than the overlap
// asks for; never less, and never two people at once.
//
// Settings (workspace_settings) carry a version: write() names the version it read and fails
// with a conflict - naming who changed it and to what - when someone wrote since. Nothing is
// silently overwritten.

#include "common/Status.h"

#include <QDateTime>
#include <QList>
#include <QString>
#include <optional>

namespace emolens {

class Database;

struct ClipClaim
{
    qint64 utteranceId = 0;
    QString annotator;
    double claimedAt = 0; // seconds since 1970, UTC
    double expiresAt = 0;
    qint64 version = 0;
    bool resumed = false; // claimNext() gave back a claim the person already held
    int labelsSoFar = 0;  // people who had labeled the clip when it was handed out
};

struct AssignmentRequest
{
    QString annotator;
    qint64 corpusId = 0;     // 0: every corpus
    int overlap = 0;         // 0: the workspace setting
    double claimSeconds = 0; // 0: from the team's pace
    double now = 0;          // 0: the clock (seconds since 1970, UTC); tests set it
};

struct WorkspaceSetting
{
    QString name;
    QString value;
    qint64 version = 0; // 0: never written (value is the default)
    QString changedBy;
    QDateTime changedAt;
};

class AssignmentRepository
{
public:
    static constexpr double kMinClaimSeconds = 120;
    static constexpr double kMaxClaimSeconds = 1800;
    static constexpr double kDefaultClaimSeconds = 600;

    explicit AssignmentRepository(Database &db);

    // The next clip for request.annotator, claimed for them; nullopt in *out when every clip
    // has enough labels or is someone else's.
    Status claimNext(const AssignmentRequest &request, std::optional<ClipClaim> *out);
    // Extends the person's claim (they are still on the clip). Fails with a conflict when the
    // claim expired and the clip went to someone else, naming them.
    Status renewClaim(qint64 utteranceId, const QString &annotator, double now,
                      ClipClaim *out = nullptr);
    // Gives the clip back (the person skipped it or labeled it).
    Status releaseClaim(qint64 utteranceId, const QString &annotator);
    // Every claim that has not expired at `now` (0: the clock).
    Status claims(QList<ClipClaim> *out, double now = 0) const;
    // How long a claim lasts now, from the team's pace (see above).
    double claimSeconds() const;
    // Clips that still need labels (fewer people than overlap labeled them).
    Status clipsNeedingLabels(qint64 corpusId, int overlap, int *count) const;

    Status setting(const QString &name, const QString &defaultValue, WorkspaceSetting *out) const;
    // Writes the setting if its version is still `expectedVersion` (0: it was never written).
    // *conflict (may be null) is set when someone else wrote since; the error says who.
    Status writeSetting(const QString &name, const QString &value, qint64 expectedVersion,
                        const QString &who, bool *conflict = nullptr);
    int overlap() const; // the "overlap" setting, at least 1

    static double nowSeconds();

private:
    Database &m_db;
};

} // namespace emolens
