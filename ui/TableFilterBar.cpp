#include "TableFilterBar.h"

#include "UtteranceFilterModel.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QSignalBlocker>
#include <QStyle>
#include <QToolButton>

namespace emolens {

namespace {

// Entries that are not classes carry data that no class name can be.
const QString kAll = QStringLiteral("\x01all");
const QString kNotMine = QStringLiteral("\x01notmine");
const QString kNoPerson = QStringLiteral("\x01noperson");
const QString kDisagree = QStringLiteral("\x01disagree");
const QString kUnlabeled = QStringLiteral("\x01unlabeled");

} // namespace

TableFilterBar::TableFilterBar(UtteranceFilterModel *filter, QWidget *parent)
    : QWidget(parent), m_filter(filter)
{
    m_text = new QLineEdit;
    m_text->setPlaceholderText(tr("Filter by key, label or speaker  (Ctrl+F)"));
    m_text->setClearButtonEnabled(true);
    connect(m_text, &QLineEdit::textChanged, this, [this](const QString &text) {
        m_filter->setText(text);
        Q_EMIT filterChanged();
    });
    m_label = new QComboBox;
    m_label->setToolTip(tr("Show all clips, the work still to do, disagreements, or one class"));
    m_label->setMinimumContentsLength(12);
    m_label->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    connect(m_label, &QComboBox::currentIndexChanged, this, &TableFilterBar::applyLabel);
    m_scope = new QToolButton;
    m_scope->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_scope->setIcon(style()->standardIcon(QStyle::SP_DialogCloseButton));
    m_scope->setToolTip(tr("Only this corpus or speaker is shown; click to show everything"));
    m_scope->setAutoRaise(true);
    m_scope->hide();
    connect(m_scope, &QToolButton::clicked, this, [this] {
        clearScope();
        Q_EMIT scopeCleared();
    });
    m_chosen = new QToolButton;
    m_chosen->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_chosen->setIcon(style()->standardIcon(QStyle::SP_DialogCloseButton));
    m_chosen->setToolTip(tr("Only the clips chosen elsewhere are shown; click to show everything"));
    m_chosen->setAutoRaise(true);
    m_chosen->hide();
    connect(m_chosen, &QToolButton::clicked, this, [this] { clearChosenClips(); });
    m_count = new QLabel;
    m_count->setForegroundRole(QPalette::PlaceholderText);

    auto *row = new QHBoxLayout(this);
    row->setContentsMargins(0, 0, 0, 0);
    row->addWidget(new QLabel(tr("Filter:")));
    row->addWidget(m_text, 1);
    row->addWidget(new QLabel(tr("Label:")));
    row->addWidget(m_label);
    row->addWidget(m_scope);
    row->addWidget(m_chosen);
    row->addWidget(m_count);
    setLabels({}, {});
}

void TableFilterBar::setLabels(const QList<LabelSchema> &labelSets, const QList<UtteranceRow> &rows)
{
    const QString previous = m_label->currentData().toString();
    QStringList classes;
    for (const LabelSchema &set : labelSets)
        for (const QString &c : set.classes)
            if (!classes.contains(c))
                classes << c;
    for (const UtteranceRow &row : rows)
        if (!row.label.isEmpty() && !classes.contains(row.label))
            classes << row.label;
    {
        const QSignalBlocker block(m_label);
        m_label->clear();
        m_label->addItem(tr("All"), kAll);
        m_label->addItem(tr("Not labeled by me"), kNotMine);
        m_label->addItem(tr("No person's label yet"), kNoPerson);
        m_label->addItem(tr("Annotators disagree"), kDisagree);
        m_label->addItem(tr("Unlabeled (not even by the corpus)"), kUnlabeled);
        if (!classes.isEmpty())
            m_label->insertSeparator(m_label->count());
        for (const QString &c : classes)
            m_label->addItem(c, c);
        const int keep = m_label->findData(previous);
        m_label->setCurrentIndex(keep >= 0 ? keep : 0);
    }
    applyLabel();
}

void TableFilterBar::addLabel(const QString &label)
{
    if (!label.isEmpty() && m_label->findData(label) < 0)
        m_label->addItem(label, label);
}

void TableFilterBar::setAnnotator(const QString &name)
{
    m_filter->setAnnotator(name);
    Q_EMIT filterChanged();
}

void TableFilterBar::setScope(qint64 corpusId, const QString &corpusName,
                              const QString &speakerCode)
{
    m_filter->setScope(corpusId, speakerCode);
    m_scope->setText(speakerCode.isEmpty()
                         ? corpusName
                         : QStringLiteral("%1 \u203A %2").arg(corpusName, speakerCode));
    m_scope->show();
    Q_EMIT filterChanged();
}

void TableFilterBar::clearScope()
{
    m_filter->setScope(0);
    m_scope->hide();
    Q_EMIT filterChanged();
}

void TableFilterBar::setChosenClips(const QList<qint64> &ids, const QString &where)
{
    m_filter->setIdFilter(ids);
    m_chosen->setText(tr("%n clip(s) from %1", nullptr, int(ids.size())).arg(where));
    m_chosen->setVisible(!ids.isEmpty());
    Q_EMIT filterChanged();
}

void TableFilterBar::clearChosenClips()
{
    m_filter->setIdFilter({});
    m_chosen->hide();
    Q_EMIT filterChanged();
}

void TableFilterBar::showCounts(int shown, int total)
{
    const QLocale locale;
    m_count->setText(
        shown == total ? tr("%1 utterances").arg(locale.toString(total))
                       : tr("%1 of %2 shown").arg(locale.toString(shown), locale.toString(total)));
}

void TableFilterBar::applyLabel()
{
    const QString data = m_label->currentData().toString();
    using Filter = UtteranceFilterModel::LabelFilter;
    if (data == kUnlabeled)
        m_filter->setLabelFilter(Filter::Unlabeled);
    else if (data == kNotMine)
        m_filter->setLabelFilter(Filter::NotLabeledByMe);
    else if (data == kNoPerson)
        m_filter->setLabelFilter(Filter::NoPersonLabel);
    else if (data == kDisagree)
        m_filter->setLabelFilter(Filter::Disagreement);
    else if (data.isEmpty() || data == kAll)
        m_filter->setLabelFilter(Filter::All);
    else
        m_filter->setLabelFilter(Filter::Category, data);
    Q_EMIT filterChanged();
}

} // namespace emolens
