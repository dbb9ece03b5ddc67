#include "ClassColours.h"

#include <algorithm>
#include <array>
#include <cmath>

namespace emolens {

namespace {

struct Named
{
    const char *stem; // a class whose lower-case name starts with this takes the colour
    QRgb colour;
};

// Ordered so that a longer stem wins over a shorter one that shares its start.
constexpr std::array<Named, 13> kNamed = {{
    {"ang", 0xd62728}, // angry, anger
    {"hap", 0xf0a30a}, // happy, happiness
    {"joy", 0xf0a30a},
    {"exc", 0xff7f0e}, // excited
    {"sad", 0x1f77b4}, // sad, sadness
    {"neu", 0x8c8c8c}, // neutral
    {"fea", 0x9467bd}, // fear, fearful
    {"dis", 0x2ca02c}, // disgust, disgusted
    {"sur", 0x17becf}, // surprise, surprised
    {"fru", 0xe377c2}, // frustrated, frustration
    {"con", 0x8c564b}, // contempt
    {"cal", 0xbcbd22}, // calm
    {"bor", 0x7f9fb5}, // boredom, bored
}};

// For any other class: distinct from each other and from the named ones.
constexpr std::array<QRgb, 8> kOthers = {0x3b6e8f, 0xa05195, 0x5a9e6f, 0xc9822b,
                                         0x6b6ecf, 0xb5495b, 0x3f8f8a, 0x8a6d3b};

QRgb namedColour(const QString &name)
{
    const QString lower = name.trimmed().toLower();
    for (const Named &n : kNamed)
        if (lower.startsWith(QLatin1String(n.stem)))
            return n.colour;
    return 0;
}

} // namespace

QColor classColour(const QStringList &classes, int index)
{
    if (index < 0 || index >= classes.size())
        return QColor(0x8c8c8c);
    if (const QRgb named = namedColour(classes[index]))
        return QColor(named);
    // The unnamed classes before this one each took a palette colour.
    int unnamedBefore = 0;
    for (int i = 0; i < index; ++i)
        unnamedBefore += namedColour(classes[i]) == 0 ? 1 : 0;
    return QColor(kOthers[std::size_t(unnamedBefore) % kOthers.size()]);
}

QColor classTint(const QColor &colour, double strength)
{
    const auto mix = [strength](int c) { return int(255 - (255 - c) * strength + 0.5); };
    return QColor(mix(colour.red()), mix(colour.green()), mix(colour.blue()));
}

QColor localAttributeColour(int id)
{
    const double hue = std::fmod(0.11 + 0.618033988749895 * std::max(id, 0), 1.0);
    return QColor::fromHsvF(float(hue), id % 2 == 0 ? 0.55f : 0.40f, id % 4 < 2 ? 0.80f : 0.62f);
}

} // namespace emolens
