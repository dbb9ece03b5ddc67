#pragma once
// EncodersDialog (Features > Encoders...): the speech encoders of the workspace - the built-in
// fbank, always first, then the model folders the user added - with what each has extracted
// and how much feature cache it takes, and the choice Extract Features uses: the active
// encoder, the device and the batch size (saved as an ExtractionChoice in QSettings).
//
// Adding a folder loads it once on a worker thread (EncoderCatalog::describeEncoder takes a
// few seconds for a base model), so the dialog stays responsive; a folder that is not a usable
// model is reported, naming the folder and the loader's reason, and nothing is added. Added
// folders are stored in the workspace (FeatureRepository), so they are listed again after a
// restart. Remove forgets an encoder and its embeddings after asking; the files in the feature
// cache stay on disk.
//
// Ownership and threads: GUI thread only. `db` is the window's connection and must outlive the
// dialog: the window closes the dialog with the workspace.

#include "common/Status.h"
#include "jobs/Job.h"

#include <QDialog>
#include <QString>
#include <QStringList>
#include <memory>

class QAction;
class QComboBox;
class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;
class QTimer;

namespace emolens {

class Database;
class FeatureExtractionController;
class JobRunner;

class EncodersDialog : public QDialog
{
    Q_OBJECT

public:
    enum Column {
        NameColumn,
        TypeColumn,
        LayersColumn,
        ExtractedColumn,
        CacheColumn,
        FolderColumn,
        ColumnCount
    };
    // Item data of each row's Name cell.
    enum Role { SourceRole = Qt::UserRole + 1, EncoderIdRole };

    EncodersDialog(Database &db, const QString &workspacePath,
                   FeatureExtractionController *extraction, QAction *extractAction,
                   QWidget *parent = nullptr);
    ~EncodersDialog() override;

    // Checks the folder on a worker thread and adds it to the workspace when it holds a model.
    // False (and nothing starts) while another folder is being checked.
    bool addEncoderFolder(const QString &folder);
    bool isValidating() const;
    // Makes the encoder with this source ("fbank" or the folder path) the active one.
    bool useEncoder(const QString &source);
    // Asks, then forgets the selected encoder and its embeddings. fbank cannot be removed.
    void removeSelectedEncoder();
    // Reads the encoders, counts and cache sizes again.
    void reload();

    // State, for tests and the screenshot tool.
    QTableWidget *encoderTable() const { return m_table; }
    int rowOf(const QString &source) const;
    QString activeEncoder() const { return m_activeSource; }
    QComboBox *deviceCombo() const { return m_device; }
    QComboBox *precisionCombo() const { return m_precision; }
    QSpinBox *batchSpinBox() const { return m_batch; }
    QPushButton *addButton() const { return m_addButton; }
    QPushButton *removeButton() const { return m_removeButton; }
    QPushButton *useButton() const { return m_useButton; }
    // The last "cannot add" message shown (empty when the last add worked).
    QString lastError() const { return m_lastError; }

Q_SIGNALS:
    void encoderAdded(const QString &source);
    void addFailed(const QString &folder, const QString &message);
    void activeEncoderChanged(const QString &source);
    // The Extracted and Cache columns hold fresh figures (measured on a worker thread).
    void countsMeasured();

private:
    void chooseFolder();
    void onValidated(const JobResult &result);
    void showAddError(const QString &folder, const QString &message);
    void saveChoice();
    void updateButtons();
    void markActiveRow();
    QString selectedSource() const;
    // Sizes the cache folders on a worker thread (a large cache has many files to stat) and
    // fills the Cache column when done; a later reload() makes an earlier answer stale.
    // Also counts the clips whose cache file is there (clipHashes: every clip's content hash).
    void measureCache(const QString &cacheRoot, const QStringList &identities,
                      const QStringList &clipHashes);
    struct CacheMeasure
    {
        qint64 bytes = 0;
        int clips = 0;
        bool measured = false;
    };
    void showCacheSizes(int generation, const QList<CacheMeasure> &measured);
    void remeasureSoon();

    Database &m_db;
    int m_cacheGeneration = 0;
    int m_clipCount = 0;
    QStringList m_measuredIdentities; // per table row
    QStringList m_clipHashes;
    bool m_measuring = false;
    QTimer *m_remeasure = nullptr;
    QString m_workspacePath;
    FeatureExtractionController *m_extraction = nullptr;
    JobRunner *m_validator = nullptr;
    QString m_validatingFolder;
    struct Pending;
    std::shared_ptr<Pending> m_pending;
    QString m_activeSource;
    QString m_lastError;

    QTableWidget *m_table = nullptr;
    QPushButton *m_addButton = nullptr;
    QPushButton *m_removeButton = nullptr;
    QPushButton *m_useButton = nullptr;
    QLabel *m_busyLabel = nullptr;
    QProgressBar *m_busyBar = nullptr;
    QLabel *m_cacheLabel = nullptr;
    QComboBox *m_device = nullptr;
    QComboBox *m_precision = nullptr;
    QSpinBox *m_batch = nullptr;
};

} // namespace emolens
