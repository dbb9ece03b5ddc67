// emolens-cli team: who may label a server workspace (core/store/TeamRepository): set the
// rights up, add or remove members, list them.

#include "CliCommands.h"

#include "store/Database.h"
#include "store/TeamRepository.h"

#include <QCommandLineParser>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>
#include <cstdio>

namespace emolens::cli {

int teamCommand(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOption(workspaceOption());
    parser.addOption({QStringLiteral("set-up"),
                      QStringLiteral("Create the workspace's annotator and reviewer roles, grant "
                                     "their rights and turn on row-level security (idempotent; "
                                     "run as the workspace's owner).")});
    parser.addOption({QStringLiteral("add"),
                      QStringLiteral("Add the database user NAME (created where missing) as an "
                                     "annotator, or with --reviewer as a reviewer."),
                      QStringLiteral("NAME")});
    parser.addOption({QStringLiteral("reviewer"),
                      QStringLiteral("With --add: the member adjudicates, imports and trains.")});
    parser.addOption({QStringLiteral("password-stdin"),
                      QStringLiteral("With --add: read the member's password from the first "
                                     "line of standard input.")});
    parser.addOption({QStringLiteral("remove"),
                      QStringLiteral("Take NAME out of the team (their labels stay)."),
                      QStringLiteral("NAME")});
    parser.addOption(jsonOption());
    if (int code = parse(parser, arguments,
                         QStringLiteral("The team of a PostgreSQL workspace: each member signs in "
                                        "as their own database user and can add labels and "
                                        "traces only in their own name; the server enforces it. "
                                        "Without --set-up, --add or --remove: lists the "
                                        "members."));
        code >= 0)
        return code;
    const QString location = parser.value(workspaceOption());
    if (location.isEmpty())
        return fail(QStringLiteral("--db postgresql://USER@HOST/DATABASE is required"));
    const int actions = int(parser.isSet(QStringLiteral("set-up"))) +
                        int(parser.isSet(QStringLiteral("add"))) +
                        int(parser.isSet(QStringLiteral("remove")));
    if (actions > 1)
        return fail(QStringLiteral("give one of --set-up, --add and --remove"));
    Database db(location);
    if (!db.isServer())
        return fail(QStringLiteral("%1: a workspace file belongs to whoever can open it; team "
                                   "rights need a PostgreSQL workspace")
                        .arg(location));
    if (auto st = db.open(); !st)
        return fail(st.error());
    TeamRepository team(db);
    if (parser.isSet(QStringLiteral("set-up"))) {
        if (auto st = team.setUp(); !st)
            return fail(st.error());
        std::printf("Team rights set up: roles %s and %s\n",
                    qPrintable(team.groupRole(TeamRole::Annotator)),
                    qPrintable(team.groupRole(TeamRole::Reviewer)));
        return 0;
    }
    if (parser.isSet(QStringLiteral("add"))) {
        const QString name = parser.value(QStringLiteral("add"));
        const TeamRole role =
            parser.isSet(QStringLiteral("reviewer")) ? TeamRole::Reviewer : TeamRole::Annotator;
        QString password;
        if (parser.isSet(QStringLiteral("password-stdin"))) {
            QTextStream in(stdin);
            password = in.readLine();
            if (password.isEmpty())
                return fail(QStringLiteral("--password-stdin: standard input had no password"));
        }
        if (auto st = team.addMember(name, role, password); !st)
            return fail(st.error());
        std::printf("%s is a %s of %s\n", qPrintable(name), qPrintable(teamRoleName(role)),
                    qPrintable(db.filePath()));
        return 0;
    }
    if (parser.isSet(QStringLiteral("remove"))) {
        const QString name = parser.value(QStringLiteral("remove"));
        if (auto st = team.removeMember(name); !st)
            return fail(st.error());
        std::printf("%s is no longer in the team of %s\n", qPrintable(name),
                    qPrintable(db.filePath()));
        return 0;
    }
    QList<TeamMember> members;
    if (auto st = team.members(&members); !st)
        return fail(st.error());
    if (parser.isSet(QStringLiteral("json"))) {
        QJsonArray list;
        for (const TeamMember &m : std::as_const(members))
            list.append(QJsonObject{{QStringLiteral("name"), m.name},
                                    {QStringLiteral("role"), teamRoleName(m.role)}});
        std::fputs(QJsonDocument(QJsonObject{{QStringLiteral("workspace"), db.filePath()},
                                             {QStringLiteral("signed_in_as"), team.currentUser()},
                                             {QStringLiteral("members"), list}})
                       .toJson(QJsonDocument::Indented)
                       .constData(),
                   stdout);
        return 0;
    }
    std::printf("Team of %s (signed in as %s)\n", qPrintable(db.filePath()),
                qPrintable(team.currentUser()));
    if (members.isEmpty())
        std::printf("  no members yet: emolens-cli team --db URL --add NAME\n");
    for (const TeamMember &m : std::as_const(members))
        std::printf("  %-24s %s\n", qPrintable(m.name), qPrintable(teamRoleName(m.role)));
    return 0;
}

} // namespace emolens::cli
