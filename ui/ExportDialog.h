#pragma once
// ExportDialog (File > Export...): what to export - a format of CorpusExporter (the five the
// CLI's `export` has), every corpus or one, and where - and says which label each clip gets.
// Returns an ExportRequest; the window runs it as an ExportJob through its job queue and
// reports what was written. The format and the last folder are remembered (QSettings
// "export/format", "export/folder"). GUI thread only.

#include "corpus/CorpusExporter.h"
#include "store/Records.h"

#include <QDialog>
#include <QList>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace emolens {

class ExportDialog : public QDialog
{
    Q_OBJECT

public:
    // corpora: the workspace's corpora; currentCorpusId: the one the tree shows (0: all).
    ExportDialog(const QList<CorpusRecord> &corpora, qint64 currentCorpusId,
                 const QString &workspacePath, QWidget *parent = nullptr);

    ExportRequest request() const;
    void setFormat(const QString &format);
    void setOutPath(const QString &path);

    // The parts, for tests.
    QComboBox *formatCombo() const { return m_format; }
    QComboBox *corpusCombo() const { return m_corpus; }
    QLineEdit *outPathEdit() const { return m_outPath; }
    QDialogButtonBox *buttons() const { return m_buttons; }

    void accept() override;

private:
    void browse();
    void onFormatChanged();
    void updateButtons();

    QString m_workspacePath;
    QComboBox *m_format = nullptr;
    QLabel *m_formatHelp = nullptr;
    QComboBox *m_corpus = nullptr;
    QLabel *m_outLabel = nullptr;
    QLineEdit *m_outPath = nullptr;
    QLabel *m_problem = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
};

} // namespace emolens
