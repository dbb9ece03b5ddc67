#include "training/StoredAdapter.h"

#include <QFile>
#include <QTemporaryDir>

namespace emolens {

Status loadStoredAdapter(const QByteArray &weights, const QString &what, AdapterTrainer *trainer)
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("adapter.safetensors"));
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(weights) <= 0)
        return Status::failure(QStringLiteral("%1: %2").arg(path, file.errorString()));
    file.close();
    if (auto st = trainer->load(path.toStdString()); !st)
        return Status::failure(
            QStringLiteral("%1: %2").arg(what, QString::fromStdString(st.error())));
    return Status::success();
}

} // namespace emolens
