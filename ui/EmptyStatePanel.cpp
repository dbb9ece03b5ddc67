#include "EmptyStatePanel.h"

#include <QAction>
#include <QFrame>
#include <QLabel>
#include <QPushButton>
#include <QVBoxLayout>

namespace emolens {

namespace {
// The card has a fixed width so the wrapped text's height can be known: a centred item in a
// box layout gets its size hint, which does not follow the label's height-for-width, and the
// last line of text was cut off.
constexpr int kCardWidth = 460;
constexpr int kCardMarginX = 36;
} // namespace

EmptyStatePanel::EmptyStatePanel(QAction *newWorkspace, QAction *openWorkspace,
                                 QAction *importCorpus, QWidget *parent)
    : QWidget(parent)
{
    auto *card = new QFrame(this);
    card->setFrameShape(QFrame::StyledPanel);
    card->setFixedWidth(kCardWidth);
    card->setAutoFillBackground(true);
    card->setBackgroundRole(QPalette::Base);

    m_title = new QLabel(card);
    QFont titleFont = m_title->font();
    titleFont.setPointSizeF(titleFont.pointSizeF() * 1.6);
    titleFont.setBold(true);
    m_title->setFont(titleFont);
    m_title->setAlignment(Qt::AlignCenter);
    m_text = new QLabel(card);
    m_text->setWordWrap(true);
    m_text->setAlignment(Qt::AlignCenter);

    auto button = [card](QAction *action, const QString &text) {
        auto *b = new QPushButton(text, card);
        b->setMinimumHeight(40);
        b->setToolTip(action->toolTip());
        connect(b, &QPushButton::clicked, action, &QAction::trigger);
        connect(action, &QAction::changed, b, [b, action] { b->setEnabled(action->isEnabled()); });
        b->setEnabled(action->isEnabled());
        return b;
    };
    m_new = button(newWorkspace, tr("New Workspace..."));
    m_open = button(openWorkspace, tr("Open Workspace..."));
    m_import = button(importCorpus, tr("Import Corpus..."));

    auto *cardLayout = new QVBoxLayout(card);
    cardLayout->setContentsMargins(kCardMarginX, 30, kCardMarginX, 30);
    cardLayout->setSpacing(12);
    cardLayout->addWidget(m_title);
    cardLayout->addWidget(m_text);
    cardLayout->addSpacing(8);
    cardLayout->addWidget(m_new);
    cardLayout->addWidget(m_open);
    cardLayout->addWidget(m_import);

    auto *layout = new QVBoxLayout(this);
    layout->addStretch(1);
    layout->addWidget(card, 0, Qt::AlignHCenter);
    layout->addStretch(2);
    setWorkspaceOpen(false);
}

void EmptyStatePanel::setWorkspaceOpen(bool open, const QString &workspaceName)
{
    if (open) {
        m_title->setText(tr("%1 is empty").arg(workspaceName));
        m_text->setText(tr("Import a corpus folder (IEMOCAP, RAVDESS, CREMA-D, a folder with a "
                           "manifest.csv, ...) to start listening and labeling. You can also drop "
                           "a folder onto this window."));
        m_import->setDefault(true);
    } else {
        m_title->setText(tr("Welcome to EmoLens"));
        m_text->setText(tr("A workspace is one file that holds your corpora, labels and models. "
                           "Create one, or open an existing .emolens file."));
        m_new->setDefault(true);
    }
    const auto *card = qobject_cast<const QFrame *>(m_text->parentWidget());
    const int textWidth = kCardWidth - 2 * (kCardMarginX + (card ? card->frameWidth() : 0));
    m_text->setMinimumHeight(m_text->heightForWidth(textWidth));
}

} // namespace emolens
