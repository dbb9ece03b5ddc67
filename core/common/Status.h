#pragma once
// Status: the result of an operation that can fail with a message a user can read.
// Errors never cross a layer boundary as exceptions; they travel as Status values.

#include <QString>
#include <utility>

namespace emolens {

class Status
{
public:
    Status() = default;
    static Status success() { return Status(); }
    static Status failure(QString message) { return Status(std::move(message)); }

    bool ok() const { return m_error.isEmpty(); }
    explicit operator bool() const { return ok(); }
    const QString &error() const { return m_error; }

private:
    explicit Status(QString message) : m_error(std::move(message))
    {
        if (m_error.isEmpty())
            m_error = QStringLiteral("unknown error");
    }
    QString m_error;
};

} // namespace emolens
