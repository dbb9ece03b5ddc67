#pragma once
// ModelsDialog (Model > Models...): every model version of the workspace, newest first, with
// its recipe, encoder, classes, validation UA/WA/F1 and clips, date and training time; the
// active one is ticked and bold. Make Active chooses the model the table, the labeling panel
// and the emotion lane use; Delete forgets a model and its predictions after asking (the run
// and its metrics stay). Below, the pre-trained backbones (Model > Pre-train: adapter TAPT, and
// TAPT proper's adapted encoders) that later runs start from, each with its kind, encoder,
// clips, epochs, last epoch's losses and date; Delete Backbone forgets one after asking.
// GUI thread only; `db` is the window's connection.

#include <QDialog>

class QPushButton;
class QTableWidget;

namespace emolens {

class Database;

class ModelsDialog : public QDialog
{
    Q_OBJECT

public:
    enum Column {
        ModelColumn,
        RecipeColumn,
        EncoderColumn,
        ClassesColumn,
        UaColumn,
        WaColumn,
        F1Column,
        ClipsColumn,
        TrainedColumn,
        ColumnCount
    };

    explicit ModelsDialog(Database &db, QWidget *parent = nullptr);

    void reload();
    // The model of the selected row (0: none).
    qint64 selectedModel() const;
    bool makeActive(qint64 modelId);
    // Asks first; true when the model was deleted.
    bool deleteSelected();

    QTableWidget *table() const { return m_table; }
    // The backbones' table and its button.
    QTableWidget *backboneTable() const { return m_backbones; }
    QPushButton *deleteBackboneButton() const { return m_deleteBackboneButton; }
    qint64 selectedBackbone() const;
    // Asks first; true when the backbone was deleted.
    bool deleteSelectedBackbone();
    QPushButton *activeButton() const { return m_activeButton; }
    QPushButton *deleteButton() const { return m_deleteButton; }

Q_SIGNALS:
    // The active model changed (another was chosen, or the active one was deleted).
    void activeModelChanged();

private:
    void updateButtons();

    Database &m_db;
    QTableWidget *m_table = nullptr;
    QPushButton *m_activeButton = nullptr;
    QPushButton *m_deleteButton = nullptr;
    QTableWidget *m_backbones = nullptr;
    QPushButton *m_deleteBackboneButton = nullptr;
    void reloadBackbones();
};

} // namespace emolens
