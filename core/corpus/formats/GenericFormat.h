#pragma once
// GenericFormat: any folder, described either by a manifest or by label sub-folders.
//
// Manifest: manifest.csv, manifest.tsv, metadata.csv or labels.csv in the root, otherwise the
// only .csv/.tsv there. A header row names the columns, matched without regard to case:
//   path (or file, filename, wav, audio)   required; relative to the manifest, or absolute
//   label (or emotion, emo, class)          speaker (or spk, speaker_id)   gender (or sex)
//   original_label, session, style, transcript (or text), valence, arousal, dominance
// Every other column is kept as metadata. Quoting follows RFC 4180. This reads back what the
// csv exporter writes, labels, speakers and genders included.
//
// Folders: <label>/.../<file> for any audio libsndfile may read (wav flac ogg opus mp3 aiff
// au); files directly in the root are unlabeled.
//
// The key is the path relative to the root without the extension. Mappings: "original"
// (default; labels as spelled, classes sorted) and "4class" (common spellings such as anger,
// ANG, happiness, neu read as angry/happy/neutral/sad; the rest unlabeled).

#include "corpus/CorpusFormat.h"

namespace emolens {

class GenericFormat final : public CorpusFormat
{
public:
    QString name() const override { return QStringLiteral("generic"); }
    QString displayName() const override { return QStringLiteral("Folder or manifest"); }
    QStringList labelMappings() const override;
    bool recognises(const QString &rootPath) const override;
    CorpusScan scan(const QString &rootPath, const QString &labelMapping,
                    ProgressSink &progress) const override;

    // The manifest the scan would read, or empty when it would read label folders.
    static QString manifestPath(const QString &rootPath);
};

} // namespace emolens
