#pragma once
// StoredAdapter: an adapter loaded from the bytes of its safetensors file as the workspace
// keeps them (a model version's weights, a pre-trained backbone's). AdapterTrainer::load reads
// files, so the bytes go to a temporary file first.
//
// Threads: any.

#include "AdapterTrainer.h"
#include "common/Status.h"

#include <QByteArray>
#include <QString>

namespace emolens {

// Loads `weights` into *trainer. Fails with the temporary file's error, or with what load()
// said prefixed by `what` ("model 3", "backbone 2").
Status loadStoredAdapter(const QByteArray &weights, const QString &what, AdapterTrainer *trainer);

} // namespace emolens
