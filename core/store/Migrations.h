#pragma once
// The schema's history: migration N brings a database from version N-1 to N.
// Never edit a released migration; add a new one and bump Database::kCurrentSchemaVersion.

#include "common/WorkspaceLocation.h"

#include <QStringList>

namespace emolens {

// SQL statements of the migration that produces schema version `version` (1-based), in the
// backend's dialect. The migrations are written once, in SQLite's words; for PostgreSQL the
// column types are translated (INTEGER PRIMARY KEY -> an identity column, INTEGER -> BIGINT,
// REAL -> DOUBLE PRECISION, BLOB -> BYTEA) and the append-only triggers are PL/pgSQL.
QStringList
migrationStatements(int version,
                    WorkspaceLocation::Backend backend = WorkspaceLocation::Backend::SQLite);

} // namespace emolens
