using System.Data;
using System.Data.Common;

namespace TSViz.Plugins.History.Ado;

/// <summary>
/// Parameters of a history statement, written @name in its SQL and named so (Npgsql takes the name with or without the
/// @; SQLite finds the placeholder by the exact name first, so no lookup of other prefixes per execution).
/// </summary>
internal static class DbCommandExtensions
{
    /// <summary>Binds <paramref name="value"/>, its type taken from the value.</summary>
    public static void Bind(this DbCommand command, string name, object value) => command.Parameters.Add(New(command.CreateParameter(), name, value, null));

    /// <summary>Binds <paramref name="value"/> as <paramref name="type"/>; null is bound as a NULL of that type (PostgreSQL must know it).</summary>
    public static void Bind(this DbCommand command, string name, object? value, DbType type) => command.Parameters.Add(New(command.CreateParameter(), name, value, type));

    /// <summary>A parameter of <paramref name="name"/>, <paramref name="value"/> and (when given) <paramref name="type"/>.</summary>
    public static DbParameter New(DbParameter parameter, string name, object? value, DbType? type)
    {
        ArgumentNullException.ThrowIfNull(parameter);
        parameter.ParameterName = name.StartsWith('@') ? name : "@" + name;
        if (type is { } known)
        {
            parameter.DbType = known;
        }

        parameter.Value = value ?? DBNull.Value;
        return parameter;
    }
}
