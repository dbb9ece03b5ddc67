#pragma once
// TraceRepository: time-continuous traces (arousal, valence, ... over a clip, -1..1, sampled on
// the media clock), per annotator, per dimension, per clip. Append-only like labels (a trigger
// refuses updates): a new recording of the same clip and dimension is a new row, and an
// annotator's newest is their current trace. Only people trace; a corpus's name is refused.
//
// Threads: use on the thread that owns the Database connection.

#include "common/Status.h"
#include "store/Records.h"

#include <QList>

namespace emolens {

class Database;

class TraceRepository
{
public:
    explicit TraceRepository(Database &db) : m_db(db) {}

    // Checks the trace (a person's name, a dimension, a positive rate, at least one sample,
    // every value -1..1 or NaN, the clip exists) and appends it in its own transaction; fills
    // id, annotatorId and createdAt.
    Status addTrace(TraceRecord *trace);
    // Every annotator's current trace of the clip, by dimension then annotator.
    Status currentTraces(qint64 utteranceId, QList<TraceRecord> *out) const;
    // Every current trace of a corpus's clips (corpusId 0: all), by clip, dimension, annotator.
    Status allCurrentTraces(qint64 corpusId, QList<TraceRecord> *out) const;
    // Every row of the clip (history), oldest first.
    Status history(qint64 utteranceId, QList<TraceRecord> *out) const;

private:
    Status read(const QString &where, const QVariantList &values, QList<TraceRecord> *out) const;

    Database &m_db;
};

} // namespace emolens
