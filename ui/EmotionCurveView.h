#pragma once
// EmotionCurveView: the clip view's emotion lane - the active model's per-frame posterior of
// each class (0 to 1), one curve per class in that class's colour (ClassColours), on the same
// time range, cursor and selection as the waveform, with a legend and, on hover, the time and
// every class's probability there. Without a model or features it says what to do instead.
// A model pre-trained with seed 000 (adapter-local-attributes) adds a band under the curves:
// each frame's local attribute in its colour (localAttributeColour); the hover names the
// attribute and how often it occurs in each class's labeled frames. GUI thread only.

#include "TimeRangeView.h"
#include "training/ClipPosteriors.h"

namespace emolens {

class EmotionCurveView : public TimeRangeView
{
    Q_OBJECT

public:
    static constexpr int kCurvesHeight = 84;
    static constexpr int kMessageHeight = 24;
    static constexpr int kBandHeight = 12; // the local attributes, when the model has them

    explicit EmotionCurveView(QWidget *parent = nullptr);

    // Empty posteriors (no frames) clear the lane; the placeholder text says why.
    void setPosteriors(const FramePosteriors &posteriors);
    const FramePosteriors &posteriors() const { return m_posteriors; }
    // The hover text at pos: "1.24 s  angry 0.71, happy 0.12, ..."; empty off the frames.
    QString frameDescriptionAt(const QPoint &pos) const;
    // The local attribute at pos: "local attribute 17 of 64: 4.1 % of angry, ..."
    // (its share of each class's labeled frames); empty off the frames or without attributes.
    QString attributeDescriptionAt(const QPoint &pos) const;
    // The band's rectangle (empty without local attributes).
    QRect bandRect() const;

    QSize sizeHint() const override { return {600, maximumHeight()}; }
    QSize minimumSizeHint() const override { return {120, minimumHeight()}; }

protected:
    void paintContent(QPainter &painter, const QRect &rect) override;
    bool event(QEvent *event) override;

private:
    int frameAt(const QPoint &pos) const; // -1 off the frames
    bool hasBand() const;

    FramePosteriors m_posteriors;
    std::vector<double> m_classFrames; // labeled frames per class, over all attributes
};

} // namespace emolens
