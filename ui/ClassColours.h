#pragma once
// ClassColours: the colour of an emotion class, the same everywhere in the app (category
// buttons now; the map, confusion matrices and curves later). Common emotion names get the
// colours SER papers and tools usually give them (anger red, happiness amber, sadness blue,
// neutral grey, ...), whatever the corpus calls them ("ang", "anger", "angry"); any other
// class takes the next free colour of a qualitative palette by its place in the schema, so a
// corpus's classes never share a colour. GUI thread or any: pure functions.

#include <QColor>
#include <QString>
#include <QStringList>

namespace emolens {

// The colour of classes[index] within its schema's classes.
QColor classColour(const QStringList &classes, int index);
// The colour mixed with white: a background that keeps black text readable.
QColor classTint(const QColor &colour, double strength = 0.28);
// The colour of local-attribute id (seed 000's clusters) in the clip view's band: hues a
// golden angle apart, so neighbouring ids differ, at two lightnesses; muted beside the classes.
QColor localAttributeColour(int id);

} // namespace emolens
