#pragma once
// ImportCorpusDialog: asks what to import - the corpus folder, its format ("Detect
// automatically" or one of corpusFormats()), the label mapping the format offers and an
// optional corpus name - and returns it as an ImportRequest (without the database path,
// which the main window fills in). It opens on the folder imported last (QSettings
// "import/lastFolder", saved when the user presses Import). GUI thread only.

#include "corpus/CorpusImporter.h"

#include <QDialog>

class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;

namespace emolens {

class ImportCorpusDialog : public QDialog
{
    Q_OBJECT

public:
    explicit ImportCorpusDialog(QWidget *parent = nullptr);

    void setFolder(const QString &path);
    QString folder() const;
    ImportRequest request() const;
    // The folder label, for tests: its mnemonic (Alt+F) goes to the folder field.
    QLabel *folderLabel() const { return m_folderLabel; }

    void accept() override;

private:
    void browse();
    void updateFormatHint();
    void fillMappings();

    QLineEdit *m_folder = nullptr;
    QLabel *m_folderLabel = nullptr;
    QComboBox *m_format = nullptr;
    QComboBox *m_mapping = nullptr;
    QLineEdit *m_name = nullptr;
    QLabel *m_hint = nullptr;
    QDialogButtonBox *m_buttons = nullptr;
    QString m_detectedFormat;
};

} // namespace emolens
