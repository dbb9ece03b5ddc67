#pragma once
// The schema's history: migration N brings a database from version N-1 to N.
// Never edit a released migration; add a new one and bump Database::kCurrentSchemaVersion.

#include <QStringList>

namespace emolens {

// SQL statements of the migration that produces schema version `version` (1-based).
QStringList migrationStatements(int version);

} // namespace emolens
