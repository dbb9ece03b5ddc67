#include "LabelingPanel.h"

#include "ClassColours.h"

#include <QCheckBox>
#include <QComboBox>
#include <QFormLayout>
#include <QGridLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSlider>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <cmath>

namespace emolens {

namespace {

constexpr double kConfidenceLevels[] = {0.33, 0.66, 1.0};

QString formatScaleValue(double value)
{
    return QString::number(value, 'f', 1);
}

// A category button: a stripe of the class colour on the left always; filled with the class's
// tint, outlined in its colour and bold when it is this annotator's category; a dashed outline
// in the class colour when it is the corpus's own label.
QString categoryButtonStyle(const QColor &colour, bool mine, bool corpus)
{
    const QString c = colour.name();
    const QString border = mine     ? QStringLiteral("2px solid %1").arg(c)
                           : corpus ? QStringLiteral("2px dashed %1").arg(c)
                                    : QStringLiteral("1px solid #c3c8d0");
    return QStringLiteral("QPushButton { text-align: left; padding: 3px 8px; border: %1; "
                          "border-left: 7px solid %2; border-radius: 3px; background: %3; "
                          "font-weight: %4; color: #1d1f23; }"
                          "QPushButton:hover { background: %5; }"
                          "QPushButton:disabled { color: #8a8f98; }")
        .arg(border, c, mine ? classTint(colour).name() : QStringLiteral("#fbfbfc"),
             mine ? QStringLiteral("bold") : QStringLiteral("normal"),
             mine ? classTint(colour, 0.36).name() : classTint(colour, 0.10).name());
}

} // namespace

LabelingPanel::LabelingPanel(QWidget *parent) : QWidget(parent)
{
    setMinimumWidth(260);
    m_emptyLabel = new QLabel(tr("Select an utterance to label it."), this);
    m_emptyLabel->setAlignment(Qt::AlignCenter);
    m_emptyLabel->setWordWrap(true);
    m_emptyLabel->setForegroundRole(QPalette::PlaceholderText);

    m_editor = new QWidget(this);
    auto *editorLayout = new QVBoxLayout(m_editor);
    editorLayout->setContentsMargins(0, 0, 0, 0);

    // What is being labeled.
    auto *clipBox = new QGroupBox(tr("Utterance"), m_editor);
    auto *clipLayout = new QVBoxLayout(clipBox);
    m_keyLabel = new QLabel(clipBox);
    QFont keyFont = m_keyLabel->font();
    keyFont.setBold(true);
    keyFont.setPointSizeF(keyFont.pointSizeF() * 1.15);
    m_keyLabel->setFont(keyFont);
    m_keyLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_keyLabel->setWordWrap(true);
    m_detailsLabel = new QLabel(clipBox);
    m_detailsLabel->setWordWrap(true);
    m_transcriptLabel = new QLabel(clipBox);
    m_transcriptLabel->setWordWrap(true);
    m_transcriptLabel->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_corpusLabel = new QLabel(clipBox);
    m_shownLabel = new QLabel(clipBox);
    m_shownLabel->setWordWrap(true);
    clipLayout->addWidget(m_keyLabel);
    clipLayout->addWidget(m_detailsLabel);
    clipLayout->addWidget(m_transcriptLabel);
    clipLayout->addWidget(m_corpusLabel);
    clipLayout->addWidget(m_shownLabel);

    // Category buttons, rebuilt per schema.
    m_categoryBox = new QGroupBox(tr("Category"), m_editor);
    auto *categoryLayout = new QVBoxLayout(m_categoryBox);
    m_categoryGrid = new QGridLayout;
    m_categoryGrid->setSpacing(4);
    categoryLayout->addLayout(m_categoryGrid);
    m_clearButton = new QPushButton(tr("Clear category  (0)"), m_categoryBox);
    m_clearButton->setToolTip(tr("Remove your category for this clip (0)"));
    m_clearButton->setFocusPolicy(Qt::NoFocus);
    connect(m_clearButton, &QPushButton::clicked, this, &LabelingPanel::clearCategory);
    categoryLayout->addWidget(m_clearButton);

    m_dimensionBox = new QGroupBox(tr("Dimensions"), m_editor);
    m_dimensionGrid = new QGridLayout(m_dimensionBox);
    m_dimensionGrid->setColumnStretch(1, 1);

    // Confidence and notes.
    auto *detailBox = new QGroupBox(tr("Your judgement"), m_editor);
    auto *form = new QFormLayout(detailBox);
    m_confidence = new QComboBox(detailBox);
    m_confidence->addItem(tr("Not set"));
    m_confidence->addItem(tr("Low (0.33)"));
    m_confidence->addItem(tr("Medium (0.66)"));
    m_confidence->addItem(tr("High (1.0)"));
    connect(m_confidence, &QComboBox::activated, this, &LabelingPanel::commitConfidence);
    m_notes = new QLineEdit(detailBox);
    m_notes->setObjectName(QStringLiteral("labelNotes"));
    m_notes->setPlaceholderText(tr("Optional note, e.g. \"laughter at 1.2 s\""));
    m_notes->setClearButtonEnabled(true);
    connect(m_notes, &QLineEdit::editingFinished, this, &LabelingPanel::commitNotes);
    // Enter keeps the note and Escape drops the edit; both hand the keys back to labeling.
    connect(m_notes, &QLineEdit::returnPressed, this, &LabelingPanel::typingFinished);
    m_notes->installEventFilter(this);
    m_annotatorLabel = new QLabel(detailBox);
    m_annotatorLabel->setTextFormat(Qt::RichText);
    connect(m_annotatorLabel, &QLabel::linkActivated, this,
            &LabelingPanel::changeAnnotatorRequested);
    form->addRow(tr("Confidence:"), m_confidence);
    form->addRow(tr("Notes:"), m_notes);
    form->addRow(tr("Annotator:"), m_annotatorLabel);

    // Navigation.
    auto *navigation = new QHBoxLayout;
    m_previous = new QPushButton(tr("\u25B2  Previous clip"), m_editor);
    m_previous->setToolTip(tr("Previous clip in the table (Up or Page Up)"));
    m_next = new QPushButton(tr("Next clip  \u25BC"), m_editor);
    m_next->setToolTip(tr("Next clip in the table (Down or Page Down)"));
    for (QPushButton *b : {m_previous, m_next})
        b->setFocusPolicy(Qt::NoFocus);
    connect(m_previous, &QPushButton::clicked, this, &LabelingPanel::previousRequested);
    connect(m_next, &QPushButton::clicked, this, &LabelingPanel::nextRequested);
    navigation->addWidget(m_previous);
    navigation->addWidget(m_next);
    m_autoAdvance = new QCheckBox(tr("Go to the next clip after a number key"), m_editor);
    m_autoAdvance->setFocusPolicy(Qt::NoFocus);
    connect(m_autoAdvance, &QCheckBox::toggled, this, &LabelingPanel::autoAdvanceChanged);

    // The utterance's label history: append-only, so undo shows up as a new row too.
    auto *historyBox = new QGroupBox(tr("History"), m_editor);
    auto *historyLayout = new QVBoxLayout(historyBox);
    m_history = new QTreeWidget(historyBox);
    m_history->setColumnCount(4);
    m_history->setHeaderLabels({tr("When"), tr("Who"), tr("Label"), tr("Change")});
    m_history->setRootIsDecorated(false);
    m_history->setAlternatingRowColors(true);
    m_history->setSelectionMode(QAbstractItemView::NoSelection);
    m_history->setFocusPolicy(Qt::NoFocus);
    m_history->header()->setStretchLastSection(false);
    m_history->header()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    m_history->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_history->header()->setSectionResizeMode(2, QHeaderView::Stretch);
    m_history->header()->setSectionResizeMode(3, QHeaderView::ResizeToContents);
    // Header and about five rows: enough to see what the last edits did.
    m_history->setMinimumHeight(m_history->fontMetrics().height() * 7 + 12);
    historyLayout->addWidget(m_history);

    editorLayout->addWidget(clipBox);
    editorLayout->addWidget(m_categoryBox);
    editorLayout->addWidget(m_dimensionBox);
    editorLayout->addWidget(detailBox);
    editorLayout->addLayout(navigation);
    editorLayout->addWidget(m_autoAdvance);
    editorLayout->addWidget(historyBox, 1);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(m_emptyLabel, 1);
    layout->addWidget(m_editor, 1);
    clearUtterance();
}

bool LabelingPanel::autoAdvance() const
{
    return m_autoAdvance->isChecked();
}

void LabelingPanel::setAutoAdvance(bool enabled)
{
    m_autoAdvance->setChecked(enabled);
}

void LabelingPanel::setAnnotatorName(const QString &name)
{
    const QString shown =
        name.isEmpty() ? tr("<i>asked at your first label</i>") : name.toHtmlEscaped();
    m_annotatorLabel->setText(
        QStringLiteral("%1 &nbsp;<a href=\"change\">%2</a>").arg(shown, tr("change...")));
}

void LabelingPanel::clearUtterance()
{
    m_shown = Shown();
    m_editor->hide();
    m_emptyLabel->show();
}

bool LabelingPanel::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_notes && event->type() == QEvent::KeyPress &&
        static_cast<QKeyEvent *>(event)->key() == Qt::Key_Escape) {
        m_updating = true;
        m_notes->setText(m_shown.myValue.notes);
        m_updating = false;
        Q_EMIT typingFinished();
        return true;
    }
    return QWidget::eventFilter(watched, event);
}

void LabelingPanel::showUtterance(const Shown &shown)
{
    // Another clip while a note is being typed: the note belongs to the clip it was typed
    // for, so it is kept for that clip before the panel moves on, and the keys go back to
    // labeling.
    const bool wasTyping = m_notes->hasFocus() && shown.utterance.id != m_shown.utterance.id;
    if (wasTyping)
        commitNotes();
    m_updating = true;
    m_shown = shown;
    const UtteranceRecord &u = shown.utterance;
    // Long keys ("audio/alice/alice_happy_2") wrap at their separators instead of widening
    // the panel past the dock.
    QString breakable = u.key;
    breakable.replace(QLatin1Char('/'), QStringLiteral("/\u200B"));
    breakable.replace(QLatin1Char('_'), QStringLiteral("_\u200B"));
    m_keyLabel->setText(breakable);
    m_keyLabel->setToolTip(u.path);
    QStringList details;
    details << tr("Speaker <b>%1</b>").arg(shown.speakerText.toHtmlEscaped());
    details << tr("%1 s").arg(u.durationSeconds, 0, 'f', 2);
    if (!shown.corpusName.isEmpty())
        details << shown.corpusName.toHtmlEscaped();
    m_detailsLabel->setText(details.join(QStringLiteral(" &middot; ")));
    m_transcriptLabel->setText(
        u.transcript.isEmpty()
            ? tr("<span style='color:gray'>No transcript</span>")
            : QStringLiteral("<i>\u201C%1\u201D</i>").arg(u.transcript.toHtmlEscaped()));
    QString corpusText = shown.corpusLabel.isEmpty()
                             ? tr("none")
                             : QStringLiteral("<b>%1</b>").arg(shown.corpusLabel.toHtmlEscaped());
    if (!u.originalLabel.isEmpty() && u.originalLabel != shown.corpusLabel)
        corpusText += tr(" (originally \"%1\")").arg(u.originalLabel.toHtmlEscaped());
    m_corpusLabel->setText(tr("Corpus label: %1").arg(corpusText));
    QString current =
        shown.shownLabel.isEmpty()
            ? tr("Current label: <span style='color:gray'>unlabeled</span>")
            : tr("Current label: <b>%1</b> <span style='color:gray'>by %2</span>")
                  .arg(shown.shownLabel.toHtmlEscaped(), shown.shownBy.toHtmlEscaped());
    // The active model's answer beside the people's, for comparison at a glance.
    if (!shown.modelLabel.isEmpty())
        current += tr("<br>Model: <b>%1</b> <span style='color:gray'>%2 %</span>")
                       .arg(shown.modelLabel.toHtmlEscaped())
                       .arg(qRound(shown.modelConfidence * 100));
    m_shownLabel->setText(current);
    rebuildSchemaControls(shown.schema);
    m_updating = false;
    refreshValueControls();
    refreshHistory();
    m_emptyLabel->hide();
    m_editor->show();
    if (wasTyping)
        Q_EMIT typingFinished();
}

void LabelingPanel::rebuildSchemaControls(const LabelSchema &schema)
{
    QString signature = schema.classes.join(QLatin1Char('\x1f'));
    for (const DimensionScale &s : schema.scales)
        signature += QStringLiteral("|%1:%2:%3").arg(s.name).arg(s.minimum).arg(s.maximum);
    if (signature == m_schemaSignature)
        return;
    m_schemaSignature = signature;

    qDeleteAll(m_categoryButtons);
    m_categoryButtons.clear();
    const int columns = schema.classes.size() > 4 ? 2 : 1;
    for (int i = 0; i < schema.classes.size(); ++i) {
        // Text, tooltip and look follow the clip: see refreshValueControls().
        auto *button = new QPushButton(m_categoryBox);
        button->setCheckable(true);
        button->setFocusPolicy(Qt::NoFocus);
        button->setMinimumHeight(30);
        button->setStyleSheet(categoryButtonStyle(classColour(schema.classes, i), false, false));
        connect(button, &QPushButton::clicked, this, [this, i] { chooseCategory(i); });
        m_categoryGrid->addWidget(button, i / columns, i % columns);
        m_categoryButtons.append(button);
    }
    m_categoryBox->setVisible(!schema.classes.isEmpty());

    for (const ScaleRow &row : m_scaleRows) {
        delete row.set;
        delete row.slider;
        delete row.value;
    }
    m_scaleRows.clear();
    for (int i = 0; i < schema.scales.size(); ++i) {
        ScaleRow row;
        row.scale = schema.scales[i];
        row.set = new QCheckBox(row.scale.name, m_dimensionBox);
        row.set->setToolTip(tr("Unchecked: %1 is not set").arg(row.scale.name));
        row.slider = new QSlider(Qt::Horizontal, m_dimensionBox);
        row.slider->setRange(int(std::lround(row.scale.minimum * 2)),
                             int(std::lround(row.scale.maximum * 2)));
        row.slider->setSingleStep(1);
        row.slider->setPageStep(2);
        row.slider->setTickPosition(QSlider::TicksBelow);
        row.slider->setTickInterval(2);
        row.slider->setToolTip(tr("%1 from %2 to %3 in steps of 0.5")
                                   .arg(row.scale.name, formatScaleValue(row.scale.minimum),
                                        formatScaleValue(row.scale.maximum)));
        row.value = new QLabel(m_dimensionBox);
        row.value->setMinimumWidth(
            row.value->fontMetrics().horizontalAdvance(QStringLiteral("not set")));
        m_dimensionGrid->addWidget(row.set, i, 0);
        m_dimensionGrid->addWidget(row.slider, i, 1);
        m_dimensionGrid->addWidget(row.value, i, 2);
        connect(row.set, &QCheckBox::toggled, this, [this, i] { commitDimension(i, false); });
        connect(row.slider, &QSlider::sliderReleased, this,
                [this, i] { commitDimension(i, true); });
        connect(row.slider, &QSlider::valueChanged, this, [this, i](int v) {
            ScaleRow &r = m_scaleRows[i];
            r.value->setText(formatScaleValue(v / 2.0));
            // Dragging commits once, on release; keyboard and clicks commit each step.
            if (!r.slider->isSliderDown())
                commitDimension(i, true);
        });
        m_scaleRows.append(row);
    }
    m_dimensionBox->setVisible(!schema.scales.isEmpty());
}

void LabelingPanel::refreshValueControls()
{
    m_updating = true;
    const LabelValue &value = m_shown.myValue;
    for (int i = 0; i < m_categoryButtons.size(); ++i) {
        const QString name = m_shown.schema.classes.value(i);
        const bool mine = name == value.category && !value.category.isEmpty();
        const bool corpus = !m_shown.corpusLabel.isEmpty() && name == m_shown.corpusLabel;
        QPushButton *button = m_categoryButtons[i];
        button->setChecked(mine);
        const QString key = i < kMaxNumberKeys ? QString::number(i + 1) : QString();
        QString text = key.isEmpty() ? name : QStringLiteral("%1   %2").arg(key, name);
        if (mine)
            text += QStringLiteral("   \u2713");
        if (corpus)
            text += tr("   (corpus)");
        button->setText(text);
        button->setStyleSheet(
            categoryButtonStyle(classColour(m_shown.schema.classes, i), mine, corpus));
        button->setProperty("corpusLabel", corpus);
        QString tip = key.isEmpty() ? tr("Set the category \"%1\"").arg(name)
                                    : tr("Set the category \"%1\" (key %2)").arg(name, key);
        if (mine)
            tip += tr("\nYour category for this clip");
        if (corpus)
            tip += tr("\nThe corpus labels this clip \"%1\"").arg(name);
        button->setToolTip(tip);
    }
    m_clearButton->setEnabled(!value.category.isEmpty());
    for (ScaleRow &row : m_scaleRows) {
        // My value where I gave one; else the value shown (another person's or the corpus's),
        // greyed, so the slider starts where the clip stands rather than in the middle.
        const bool set = value.dimensions.contains(row.scale.name);
        const bool shownElsewhere = !set && m_shown.shownDimensions.contains(row.scale.name);
        const double v = set              ? value.dimensions.value(row.scale.name)
                         : shownElsewhere ? m_shown.shownDimensions.value(row.scale.name)
                                          : (row.scale.minimum + row.scale.maximum) / 2;
        row.set->setChecked(set);
        row.slider->setValue(int(std::lround(v * 2)));
        row.value->setText(set              ? formatScaleValue(v)
                           : shownElsewhere ? tr("%1 (shown)").arg(formatScaleValue(v))
                                            : tr("not set"));
        row.value->setToolTip(shownElsewhere ? tr("Not set by you; the clip shows this value")
                                             : QString());
        row.value->setForegroundRole(set ? QPalette::WindowText : QPalette::PlaceholderText);
    }
    if (std::isnan(value.confidence)) {
        m_confidence->setCurrentIndex(0);
    } else {
        int best = 1;
        for (int i = 0; i < 3; ++i)
            if (std::abs(kConfidenceLevels[i] - value.confidence) <
                std::abs(kConfidenceLevels[best - 1] - value.confidence))
                best = i + 1;
        m_confidence->setCurrentIndex(best);
    }
    if (!m_notes->hasFocus() || m_notes->text() != value.notes)
        m_notes->setText(value.notes);
    m_updating = false;
}

void LabelingPanel::refreshHistory()
{
    m_history->clear();
    const QDate today = QDate::currentDate();
    // Newest first: the row that decides what the table shows is on top.
    for (auto it = m_shown.history.crbegin(); it != m_shown.history.crend(); ++it) {
        const LabelRecord &r = *it;
        const QDateTime local = r.createdAt.toLocalTime();
        const QString when = local.date() == today
                                 ? local.toString(QStringLiteral("HH:mm:ss"))
                                 : local.toString(QStringLiteral("yyyy-MM-dd HH:mm"));
        QStringList parts;
        if (!r.value.category.isEmpty())
            parts << r.value.category;
        for (auto d = r.value.dimensions.cbegin(); d != r.value.dimensions.cend(); ++d)
            parts << QStringLiteral("%1 %2").arg(d.key(), formatScaleValue(d.value()));
        if (!std::isnan(r.value.confidence))
            parts << tr("conf. %1").arg(r.value.confidence, 0, 'f', 2);
        if (!r.value.notes.isEmpty())
            parts << QStringLiteral("“%1”").arg(r.value.notes);
        const QString text = parts.isEmpty() ? tr("(cleared)") : parts.join(QStringLiteral(", "));
        // What this row did: an undo or a redo says so; an edit names the parts it changed.
        const QString changedParts = r.changed.join(QStringLiteral(", "));
        QString what;
        switch (r.action) {
        case LabelAction::Undo:
            what = changedParts.isEmpty() ? tr("undo") : tr("undo: %1").arg(changedParts);
            break;
        case LabelAction::Redo:
            what = changedParts.isEmpty() ? tr("redo") : tr("redo: %1").arg(changedParts);
            break;
        case LabelAction::Import:
            what = tr("import");
            break;
        case LabelAction::Edit:
        case LabelAction::Unrecorded:
            what = changedParts;
            break;
        }
        // A corpus's own labels say "corpus"; its full annotator name is in the tooltip.
        const QString who =
            r.annotatorKind == AnnotatorKind::Corpus ? tr("corpus") : r.annotatorName;
        auto *item = new QTreeWidgetItem(m_history, {when, who, text, what});
        item->setToolTip(1, r.annotatorName);
        item->setToolTip(2, r.value.notes.isEmpty()
                                ? item->text(2)
                                : item->text(2) + QStringLiteral("\n") + r.value.notes);
        if (parts.isEmpty())
            item->setForeground(2, palette().color(QPalette::PlaceholderText));
        if (r.action == LabelAction::Undo || r.action == LabelAction::Redo) {
            QFont italic = item->font(3);
            italic.setItalic(true);
            item->setFont(3, italic);
        }
    }
}

void LabelingPanel::emitEdit(const LabelValue &value)
{
    if (m_updating || !hasUtterance() || value == m_shown.myValue)
        return;
    Q_EMIT labelEdited(m_shown.utterance.id, value);
}

void LabelingPanel::chooseCategory(int index)
{
    if (!hasUtterance() || index < 0 || index >= m_shown.schema.classes.size()) {
        refreshValueControls(); // undo the button's own toggle
        return;
    }
    LabelValue value = m_shown.myValue;
    value.category = m_shown.schema.classes[index];
    if (value == m_shown.myValue)
        refreshValueControls();
    emitEdit(value);
}

void LabelingPanel::clearCategory()
{
    if (!hasUtterance())
        return;
    LabelValue value = m_shown.myValue;
    value.category.clear();
    emitEdit(value);
}

void LabelingPanel::commitDimension(int scaleIndex, bool sliderMoved)
{
    if (m_updating || scaleIndex < 0 || scaleIndex >= m_scaleRows.size())
        return;
    ScaleRow &row = m_scaleRows[scaleIndex];
    LabelValue value = m_shown.myValue;
    // Touching the slider sets the scale even when "not set" was showing.
    if (row.set->isChecked() || sliderMoved) {
        value.dimensions.insert(row.scale.name, row.slider->value() / 2.0);
    } else {
        value.dimensions.remove(row.scale.name);
    }
    emitEdit(value);
}

void LabelingPanel::commitConfidence()
{
    LabelValue value = m_shown.myValue;
    const int index = m_confidence->currentIndex();
    value.confidence = index <= 0 ? std::nan("") : kConfidenceLevels[index - 1];
    emitEdit(value);
}

void LabelingPanel::commitNotes()
{
    LabelValue value = m_shown.myValue;
    value.notes = m_notes->text().trimmed();
    emitEdit(value);
}

} // namespace emolens
