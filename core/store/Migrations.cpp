#include "store/Migrations.h"

namespace emolens {

namespace {

// Version 1: corpora, speakers, utterances, label schemas, annotators, label history.
QStringList version1()
{
    return {
        QStringLiteral(R"(CREATE TABLE label_schemas(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL,
            classes TEXT NOT NULL,   -- JSON array of class names, key 1..9 order
            scales TEXT NOT NULL     -- JSON array of {name, min, max}
        ))"),
        QStringLiteral(R"(CREATE TABLE corpora(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            root_path TEXT NOT NULL,
            format TEXT NOT NULL,
            label_mapping TEXT NOT NULL DEFAULT '',
            label_schema_id INTEGER REFERENCES label_schemas(id),
            imported_at TEXT NOT NULL
        ))"),
        QStringLiteral(R"(CREATE TABLE speakers(
            id INTEGER PRIMARY KEY,
            corpus_id INTEGER NOT NULL REFERENCES corpora(id) ON DELETE CASCADE,
            code TEXT NOT NULL,
            gender TEXT NOT NULL DEFAULT '',
            UNIQUE(corpus_id, code)
        ))"),
        QStringLiteral(R"(CREATE TABLE utterances(
            id INTEGER PRIMARY KEY,
            corpus_id INTEGER NOT NULL REFERENCES corpora(id) ON DELETE CASCADE,
            speaker_id INTEGER NOT NULL REFERENCES speakers(id),
            key TEXT NOT NULL,
            path TEXT NOT NULL,
            duration_seconds REAL NOT NULL DEFAULT 0,
            sample_rate INTEGER NOT NULL DEFAULT 0,
            channels INTEGER NOT NULL DEFAULT 0,
            frames INTEGER NOT NULL DEFAULT 0,
            session_key TEXT NOT NULL DEFAULT '',
            style TEXT NOT NULL DEFAULT '',
            transcript TEXT NOT NULL DEFAULT '',
            content_hash TEXT NOT NULL,
            original_label TEXT NOT NULL DEFAULT '',
            UNIQUE(corpus_id, key)
        ))"),
        QStringLiteral("CREATE INDEX utterances_by_hash ON utterances(corpus_id, content_hash)"),
        QStringLiteral("CREATE INDEX utterances_by_speaker ON utterances(speaker_id)"),
        QStringLiteral(R"(CREATE TABLE annotators(
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL
        ))"),
        QStringLiteral(R"(CREATE TABLE labels(
            id INTEGER PRIMARY KEY,
            utterance_id INTEGER NOT NULL REFERENCES utterances(id) ON DELETE CASCADE,
            schema_id INTEGER NOT NULL REFERENCES label_schemas(id),
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            created_at TEXT NOT NULL,
            category TEXT NOT NULL DEFAULT '',
            dimensions TEXT NOT NULL DEFAULT '{}',  -- JSON object scale -> value
            confidence REAL,                        -- 0..1, NULL when not given
            notes TEXT NOT NULL DEFAULT ''
        ))"),
        QStringLiteral(
            "CREATE INDEX labels_by_owner ON labels(utterance_id, schema_id, annotator_id, id)"),
    };
}

// Version 2: free-form utterance metadata, file sizes, and an append-only guard on labels.
QStringList version2()
{
    return {
        QStringLiteral(R"(CREATE TABLE utterance_metadata(
            utterance_id INTEGER NOT NULL REFERENCES utterances(id) ON DELETE CASCADE,
            name TEXT NOT NULL,
            value TEXT NOT NULL,
            PRIMARY KEY(utterance_id, name)
        ) WITHOUT ROWID)"),
        QStringLiteral(
            "ALTER TABLE utterances ADD COLUMN file_size_bytes INTEGER NOT NULL DEFAULT 0"),
        // Label history is never rewritten: a change is a new row.
        QStringLiteral(R"(CREATE TRIGGER labels_append_only BEFORE UPDATE ON labels
            BEGIN SELECT RAISE(ABORT, 'label history is append-only'); END)"),
    };
}

// Version 3: the speech encoders a workspace knows, and per-utterance embeddings (each
// layer's mean over the clip's frames) of every extraction, for ranking and t-SNE. The
// frame-level features live in the on-disk feature cache, not here.
QStringList version3()
{
    return {
        QStringLiteral(R"(CREATE TABLE encoders(
            id INTEGER PRIMARY KEY,
            identity TEXT NOT NULL UNIQUE,  -- SpeechEncoder::identity(): changes with the weights
            name TEXT NOT NULL,             -- what the user sees, e.g. "hubert-base-ls960"
            source TEXT NOT NULL,           -- "fbank" or the model folder's absolute path
            model_type TEXT NOT NULL,       -- fbank, wav2vec2, hubert, wavlm
            layer_count INTEGER NOT NULL,
            hidden_size INTEGER NOT NULL,
            frames_per_second REAL NOT NULL,
            added_at TEXT NOT NULL
        ))"),
        QStringLiteral(R"(CREATE TABLE utterance_embeddings(
            utterance_id INTEGER NOT NULL REFERENCES utterances(id) ON DELETE CASCADE,
            encoder_id INTEGER NOT NULL REFERENCES encoders(id) ON DELETE CASCADE,
            content_hash TEXT NOT NULL,     -- of the audio it came from: stale when it differs
            frame_count INTEGER NOT NULL,
            embedding BLOB NOT NULL,        -- float32 little-endian [layer_count, hidden_size]
            created_at TEXT NOT NULL,
            PRIMARY KEY(utterance_id, encoder_id)
        ) WITHOUT ROWID)"),
    };
}

// Version 4: what a label is no longer depends on names or on the corpus's current mapping.
// - annotators.kind says who gave a label: a person, or a corpus's own annotation (before,
//   the name prefix "corpus:" said it). Existing corpus annotators are marked from their names.
// - labels.action: how the row came about (edit, undo, redo, import; '' for rows written
//   before EmoLens kept it), and labels.changed: which parts of the judgement this row
//   changed ("category", "notes", a dimension's name, ... comma-separated).
// Labels already carry the label set they were given in (schema_id); nothing else moves.
QStringList version4()
{
    return {
        QStringLiteral("ALTER TABLE annotators ADD COLUMN kind TEXT NOT NULL DEFAULT 'person'"),
        QStringLiteral("UPDATE annotators SET kind='corpus' WHERE name LIKE 'corpus:%'"),
        QStringLiteral("ALTER TABLE labels ADD COLUMN action TEXT NOT NULL DEFAULT ''"),
        QStringLiteral("ALTER TABLE labels ADD COLUMN changed TEXT NOT NULL DEFAULT ''"),
    };
}

// Version 5: what training produces. A run (train or evaluate) with every setting it used and
// a snapshot of the labels it saw; its epochs (per fold; fold 0 is a run's own training); its
// metrics (per fold and split); the model versions it made, with their weights (an
// emolens-adapter safetensors file, kept in the workspace so it travels with it) and hash;
// and per-utterance predictions with the audio hash they came from (stale when it differs).
QStringList version5()
{
    return {
        QStringLiteral(R"(CREATE TABLE training_runs(
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL,              -- train | evaluate
            recipe TEXT NOT NULL,
            settings TEXT NOT NULL,          -- JSON: every value the run used
            seed INTEGER NOT NULL,
            encoder_id INTEGER REFERENCES encoders(id) ON DELETE SET NULL,
            label_snapshot TEXT NOT NULL,    -- JSON: classes, counts, a hash of (clip, label)
            device TEXT NOT NULL,
            status TEXT NOT NULL,            -- running, succeeded, failed, cancelled, stopped,
                                             -- interrupted
            error TEXT NOT NULL DEFAULT '',
            started_at TEXT NOT NULL,
            finished_at TEXT,
            seconds REAL,
            host TEXT NOT NULL DEFAULT '',   -- where it runs: a run whose process is gone is
            pid INTEGER NOT NULL DEFAULT 0   -- marked interrupted
        ))"),
        QStringLiteral(R"(CREATE TABLE training_epochs(
            run_id INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
            fold INTEGER NOT NULL,
            epoch INTEGER NOT NULL,
            train_loss REAL NOT NULL,
            validation_loss REAL NOT NULL,
            validation_ua REAL NOT NULL,
            seconds REAL NOT NULL,
            PRIMARY KEY(run_id, fold, epoch)
        ) WITHOUT ROWID)"),
        QStringLiteral(R"(CREATE TABLE run_metrics(
            run_id INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
            fold INTEGER NOT NULL,           -- 0: pooled (evaluate) or the run's own (train)
            split TEXT NOT NULL,             -- validation | test
            n INTEGER NOT NULL,
            ua REAL NOT NULL,
            wa REAL NOT NULL,
            f1 REAL NOT NULL,
            labels TEXT NOT NULL,            -- JSON array
            confusion TEXT NOT NULL,         -- JSON [true][predicted]
            PRIMARY KEY(run_id, fold, split)
        ) WITHOUT ROWID)"),
        QStringLiteral(R"(CREATE TABLE model_versions(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
            encoder_id INTEGER REFERENCES encoders(id) ON DELETE SET NULL,
            classes TEXT NOT NULL,           -- JSON array, the order of the outputs
            acoustic_inputs INTEGER NOT NULL,
            weights BLOB NOT NULL,           -- emolens-adapter safetensors file
            weights_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        ))"),
        QStringLiteral(R"(CREATE TABLE predictions(
            model_id INTEGER NOT NULL REFERENCES model_versions(id) ON DELETE CASCADE,
            utterance_id INTEGER NOT NULL REFERENCES utterances(id) ON DELETE CASCADE,
            content_hash TEXT NOT NULL,      -- of the audio predicted: stale when it differs
            category TEXT NOT NULL,
            confidence REAL NOT NULL,
            probabilities BLOB NOT NULL,     -- float32 little-endian, in the model's classes
            created_at TEXT NOT NULL,
            PRIMARY KEY(model_id, utterance_id)
        ) WITHOUT ROWID)"),
    };
}

// Version 6: pre-trained backbones (adapter TAPT, seed 002's one-click variant): what a
// pretrain run (training_runs.kind 'pretrain') made from every clip of the corpus, labeled or
// not - an emolens-adapter safetensors file whose backbone later runs start from when its
// encoder, inputs and backbone settings fit theirs - and its epochs' losses.
QStringList version6()
{
    return {
        QStringLiteral(R"(CREATE TABLE pretrained_backbones(
            id INTEGER PRIMARY KEY,
            run_id INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
            encoder_id INTEGER REFERENCES encoders(id) ON DELETE SET NULL,
            mode TEXT NOT NULL,              -- adapter (adapter TAPT) | paper (TAPT proper)
            acoustic_inputs INTEGER NOT NULL,
            backbone TEXT NOT NULL,          -- the backbone settings it fits
            clips INTEGER NOT NULL,          -- clips it was pre-trained on
            history TEXT NOT NULL,           -- JSON: per epoch, its losses and accuracy
            weights BLOB NOT NULL,           -- emolens-adapter safetensors file
            weights_hash TEXT NOT NULL,
            created_at TEXT NOT NULL
        ))"),
    };
}

// Version 7: active learning. A selection round is one ranking of the unlabeled clips: the
// model version whose posteriors ranked them (none for the cold start), the strategy and its
// settings, the pool it ranked (a snapshot of the candidates' ids) and the ranked picks with
// their scores and reasons - the queue the annotator works through. A simulation is one
// `simulate` run's learning curve (its report as JSON), for the learning-curve plot.
QStringList version7()
{
    return {
        QStringLiteral(R"(CREATE TABLE selection_rounds(
            id INTEGER PRIMARY KEY,
            model_id INTEGER REFERENCES model_versions(id) ON DELETE SET NULL,
            strategy TEXT NOT NULL,
            settings TEXT NOT NULL,          -- JSON: count, seed, clusters, caps, encoder, layer
            pool_size INTEGER NOT NULL,
            labeled_count INTEGER NOT NULL,  -- clips a person had labeled (left out)
            pool BLOB NOT NULL,              -- int64 little-endian utterance ids ranked over
            seconds REAL NOT NULL,
            created_at TEXT NOT NULL
        ))"),
        QStringLiteral(R"(CREATE TABLE selection_picks(
            round_id INTEGER NOT NULL REFERENCES selection_rounds(id) ON DELETE CASCADE,
            rank INTEGER NOT NULL,           -- 1 = first to label
            utterance_id INTEGER NOT NULL REFERENCES utterances(id) ON DELETE CASCADE,
            score REAL NOT NULL,
            reason TEXT NOT NULL,
            predicted TEXT NOT NULL DEFAULT '', -- the model's label, when it ranked
            confidence REAL NOT NULL DEFAULT 0,
            PRIMARY KEY(round_id, rank)
        ) WITHOUT ROWID)"),
        QStringLiteral(R"(CREATE TABLE simulations(
            id INTEGER PRIMARY KEY,
            strategy TEXT NOT NULL,
            recipe TEXT NOT NULL,
            encoder TEXT NOT NULL,
            seed INTEGER NOT NULL,
            report TEXT NOT NULL,            -- JSON: simulate --json's object
            created_at TEXT NOT NULL
        ))"),
    };
}

// Version 8: the analysis map's layouts. A layout is one t-SNE run's 2-D positions of the
// clips of a source (an encoder layer's embeddings or a model version's pooled vectors) with
// the settings it ran with, kept so that the map reopens instantly; `fingerprint` hashes the
// inputs (source, settings, clip ids and their vectors), so an unchanged request reuses it.
QStringList version8()
{
    return {
        QStringLiteral(R"(CREATE TABLE map_layouts(
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,            -- encoder:NAME:LAYER | model:ID
            settings TEXT NOT NULL,          -- JSON: perplexity, iterations, exaggeration,
                                             -- learning rate, theta, seed, PCA components
            fingerprint TEXT NOT NULL,       -- of source, settings and the input vectors
            points BLOB NOT NULL,            -- per clip: int64 id, float32 x, float32 y (LE)
            trustworthiness REAL,            -- at k = 10, where measured
            seconds REAL NOT NULL,
            created_at TEXT NOT NULL
        ))"),
        QStringLiteral("CREATE INDEX map_layouts_by_source ON map_layouts(source, id)"),
    };
}

// Version 9: time-continuous traces. A trace is one annotator's arousal or valence (or any
// dimension) over one clip, sampled on the media clock at a fixed rate; like labels it is
// append-only, and an annotator's newest trace of a dimension is their current one.
QStringList version9()
{
    return {
        QStringLiteral(R"(CREATE TABLE traces(
            id INTEGER PRIMARY KEY,
            utterance_id INTEGER NOT NULL REFERENCES utterances(id) ON DELETE CASCADE,
            annotator_id INTEGER NOT NULL REFERENCES annotators(id),
            dimension TEXT NOT NULL,         -- e.g. arousal, valence
            rate_hz REAL NOT NULL,           -- samples per second of media time
            start_seconds REAL NOT NULL DEFAULT 0, -- media time of the first sample
            samples BLOB NOT NULL,           -- float32 little-endian, -1..1, NaN: not traced
            input TEXT NOT NULL DEFAULT '',  -- mouse, wheel, keyboard or import
            created_at TEXT NOT NULL
        ))"),
        QStringLiteral(
            "CREATE INDEX traces_by_clip ON traces(utterance_id, dimension, annotator_id, id)"),
        QStringLiteral(R"(CREATE TRIGGER traces_append_only BEFORE UPDATE ON traces
            BEGIN SELECT RAISE(ABORT, 'traces are append-only'); END)"),
    };
}

} // namespace

QStringList migrationStatements(int version)
{
    switch (version) {
    case 1:
        return version1();
    case 2:
        return version2();
    case 3:
        return version3();
    case 4:
        return version4();
    case 5:
        return version5();
    case 6:
        return version6();
    case 7:
        return version7();
    case 8:
        return version8();
    case 9:
        return version9();
    default:
        return {};
    }
}

} // namespace emolens
