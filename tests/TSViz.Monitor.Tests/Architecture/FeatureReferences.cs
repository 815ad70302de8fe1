using System.Reflection;
using System.Reflection.Emit;

namespace TSViz.Monitor.Tests.Architecture;

/// <summary>
/// Which feature of TSViz.Monitor (the namespace under TSViz.Monitor, which is its folder) uses which other feature's
/// types: read from the compiled assembly, so signatures, fields, base types, attributes and every type, method and field
/// a method body names count, lambdas and state machines included (they are nested in the type that wrote them).
/// Constants are inlined by the compiler and so do not count.
/// </summary>
internal static class FeatureReferences
{
    private const string Root = "TSViz.Monitor";

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>The feature a type belongs to, or null for a type outside TSViz.Monitor's namespaces (generated ones included).</summary>
    public static string? FeatureOf(Type type)
    {
        string? ns = type.Namespace;
        if (ns is null || !ns.StartsWith(Root + ".", StringComparison.Ordinal) || ns.StartsWith(Root + ".Tests", StringComparison.Ordinal))
        {
            return null;
        }

        return ns[(Root.Length + 1)..].Split('.')[0];
    }

    /// <summary>Every (from, to) feature edge of <paramref name="assembly"/>, with one example "Type -> Type" per edge.</summary>
    public static SortedDictionary<(string From, string To), string> Edges(Assembly assembly)
    {
        var edges = new SortedDictionary<(string, string), string>();
        foreach (var type in assembly.GetTypes())
        {
            if (FeatureOf(type) is not { } from)
            {
                continue;
            }

            foreach (var used in UsedBy(type))
            {
                if (used.Assembly == assembly && FeatureOf(used) is { } to && to != from)
                {
                    edges.TryAdd((from, to), $"{Describe(type)} -> {Describe(used)}");
                }
            }
        }

        return edges;
    }

    /// <summary>
    /// For every feature, the types other features use of it (a nested type counts as its outermost type), with one
    /// user each; uses by <paramref name="except"/> (the composition root) are left out.
    /// </summary>
    public static SortedDictionary<string, SortedDictionary<string, string>> UsedByOthers(Assembly assembly, string except)
    {
        var used = new SortedDictionary<string, SortedDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            if (FeatureOf(type) is not { } from || from == except)
            {
                continue;
            }

            // A by-ref, pointer or array type (a record's Deconstruct has out parameters) is its element type, listed too.
            foreach (var target in UsedBy(type).Where(t => !t.HasElementType))
            {
                if (target.Assembly == assembly && FeatureOf(target) is { } to && to != from)
                {
                    var outermost = target;
                    while (outermost.DeclaringType is { } declaring)
                    {
                        outermost = declaring;
                    }

                    if (!used.TryGetValue(to, out var types))
                    {
                        used[to] = types = new SortedDictionary<string, string>(StringComparer.Ordinal);
                    }

                    types.TryAdd(outermost.Name, Describe(type));
                }
            }
        }

        return used;
    }

    private static string Describe(Type type) => type.FullName ?? type.Name;

    /// <summary>The types <paramref name="type"/> names in its declaration and members (its nested types are visited on their own).</summary>
    private static HashSet<Type> UsedBy(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || t.IsGenericParameter || !found.Add(t))
            {
                return;
            }

            if (t.HasElementType)
            {
                Add(t.GetElementType());
            }

            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                Add(t.GetGenericTypeDefinition());
                foreach (var argument in t.GetGenericArguments())
                {
                    Add(argument);
                }
            }

            Add(t.DeclaringType);
        }

        Add(type.BaseType);
        foreach (var contract in type.GetInterfaces())
        {
            Add(contract);
        }

        AddAttributes(type.CustomAttributes, Add);
        foreach (var field in type.GetFields(Declared))
        {
            Add(field.FieldType);
            AddAttributes(field.CustomAttributes, Add);
        }

        foreach (var property in type.GetProperties(Declared))
        {
            Add(property.PropertyType);
        }

        foreach (var method in type.GetMethods(Declared).Cast<MethodBase>().Concat(type.GetConstructors(Declared)))
        {
            if (method is MethodInfo info)
            {
                Add(info.ReturnType);
            }

            foreach (var parameter in method.GetParameters())
            {
                Add(parameter.ParameterType);
            }

            AddAttributes(method.CustomAttributes, Add);
            var body = method.GetMethodBody();
            if (body is null)
            {
                continue;
            }

            foreach (var local in body.LocalVariables)
            {
                Add(local.LocalType);
            }

            foreach (var member in MembersNamedIn(method, body.GetILAsByteArray() ?? []))
            {
                switch (member)
                {
                    case Type t:
                        Add(t);
                        break;
                    case MethodBase m:
                        Add(m.DeclaringType);
                        if (m is MethodInfo { IsGenericMethod: true } generic)
                        {
                            foreach (var argument in generic.GetGenericArguments())
                            {
                                Add(argument);
                            }
                        }

                        break;
                    case FieldInfo f:
                        Add(f.DeclaringType);
                        break;
                }
            }
        }

        return found;
    }

    private static void AddAttributes(IEnumerable<CustomAttributeData> attributes, Action<Type?> add)
    {
        foreach (var attribute in attributes)
        {
            add(attribute.AttributeType);
            foreach (var argument in attribute.ConstructorArguments.Concat(attribute.NamedArguments.Select(n => n.TypedValue)))
            {
                add(argument.Value as Type);
            }
        }
    }

    /// <summary>The types, methods and fields the IL of <paramref name="method"/> names (ECMA-335 III: opcode, then its operand).</summary>
    private static IEnumerable<MemberInfo> MembersNamedIn(MethodBase method, byte[] il)
    {
        var typeArguments = method.DeclaringType is { IsGenericType: true } declaring ? declaring.GetGenericArguments() : null;
        var methodArguments = method.IsGenericMethod ? method.GetGenericArguments() : null;
        int i = 0;
        while (i < il.Length)
        {
            short value = il[i] == 0xFE ? (short)(0xFE00 | il[i + 1]) : il[i];
            i += il[i] == 0xFE ? 2 : 1;
            var opCode = OpCodesByValue[value];
            switch (opCode.OperandType)
            {
                case OperandType.InlineNone:
                    break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar:
                    i += 1;
                    break;
                case OperandType.InlineVar:
                    i += 2;
                    break;
                case OperandType.InlineI8 or OperandType.InlineR:
                    i += 8;
                    break;
                case OperandType.InlineSwitch:
                    i += 4 + (4 * BitConverter.ToInt32(il, i));
                    break;
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    int token = BitConverter.ToInt32(il, i);
                    i += 4;
                    if (Resolve(method.Module, token, typeArguments, methodArguments) is { } member)
                    {
                        yield return member;
                    }

                    break;
                default: // InlineBrTarget, InlineI, InlineSig, InlineString, ShortInlineR
                    i += 4;
                    break;
            }
        }
    }

    private static MemberInfo? Resolve(Module module, int token, Type[]? typeArguments, Type[]? methodArguments)
    {
        try
        {
            return module.ResolveMember(token, typeArguments, methodArguments);
        }
        catch (Exception ex) when (ex is ArgumentException or TypeLoadException or MissingMemberException or BadImageFormatException or FileNotFoundException)
        {
            // A member of an assembly that is not loaded here is no feature of the monitor.
            return null;
        }
    }
}
