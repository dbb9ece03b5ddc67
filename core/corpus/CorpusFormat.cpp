#include "corpus/CorpusFormat.h"

#include "corpus/formats/CremaDFormat.h"
#include "corpus/formats/EmoDbFormat.h"
#include "corpus/formats/GenericFormat.h"
#include "corpus/formats/IemocapFormat.h"
#include "corpus/formats/MspPodcastFormat.h"
#include "corpus/formats/RavdessFormat.h"
#include "corpus/formats/SaveeFormat.h"
#include "corpus/formats/TessFormat.h"

namespace emolens {

const QList<std::shared_ptr<const CorpusFormat>> &corpusFormats()
{
    // Order matters for detection: layouts with distinctive marker folders or label files come
    // first; the generic layout recognises almost any folder with audio and must come last.
    static const QList<std::shared_ptr<const CorpusFormat>> formats = {
        std::make_shared<IemocapFormat>(), std::make_shared<MspPodcastFormat>(),
        std::make_shared<CremaDFormat>(),  std::make_shared<RavdessFormat>(),
        std::make_shared<SaveeFormat>(),   std::make_shared<EmoDbFormat>(),
        std::make_shared<TessFormat>(),    std::make_shared<GenericFormat>()};
    return formats;
}

std::shared_ptr<const CorpusFormat> corpusFormat(const QString &name)
{
    for (const auto &format : corpusFormats())
        if (format->name().compare(name, Qt::CaseInsensitive) == 0)
            return format;
    return nullptr;
}

std::shared_ptr<const CorpusFormat> detectCorpusFormat(const QString &rootPath)
{
    for (const auto &format : corpusFormats())
        if (format->recognises(rootPath))
            return format;
    return nullptr;
}

} // namespace emolens
