using System.Reflection;
using System.Reflection.Emit;

namespace Salient.Tests.Architecture;

/// <summary>One type-level reference: which type uses which, and where (e.g. "IL of Render").</summary>
public sealed record TypeReference(string FromType, string ToType, string Via);

/// <summary>One namespace-level edge with the type-level references behind it (one per type pair, the first found).</summary>
public sealed record NamespaceEdge(string From, string To, IReadOnlyList<TypeReference> Examples)
{
    public string FromType => Examples[0].FromType;
    public string ToType => Examples[0].ToType;
    public string Via => Examples[0].Via;
}

/// <summary>
/// The namespace dependency graph of an assembly, by reflection: for every type, the types it
/// references in its signatures (base type, interfaces, fields, properties, events, method and
/// constructor signatures, generic arguments and constraints, attributes) and in its method bodies
/// (locals, and the tokens of the IL, decoded with the <see cref="OpCodes"/> table). Nested types —
/// compiler-generated closures, iterators and async state machines included — belong to the
/// namespace of the type they are nested in.
/// </summary>
public static class DependencyGraph
{
    private const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Dictionary<short, OpCode> OneByte = new(), TwoByte = new();

    static DependencyGraph()
    {
        foreach (var f in typeof(OpCodes).GetFields(BindingFlags.Public | BindingFlags.Static))
        {
            var op = (OpCode)f.GetValue(null)!;
            if (op.Size == 1) OneByte[(short)(op.Value & 0xFF)] = op;
            else TwoByte[(short)(op.Value & 0xFF)] = op;
        }
    }

    /// <summary>
    /// Namespace edges among the types of <paramref name="assembly"/>; <paramref name="group"/> maps a
    /// namespace to its node (null: not a node, e.g. the root namespace). One example per edge.
    /// </summary>
    public static IReadOnlyList<NamespaceEdge> Edges(Assembly assembly, Func<string?, string?> group)
    {
        var edges = new Dictionary<(string, string), Dictionary<(string, string), TypeReference>>();
        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e) { types = e.Types.Where(t => t is not null).ToArray()!; }
        foreach (var type in types)
        {
            if (group(type.Namespace) is not { } from) continue;
            foreach (var (referenced, via) in References(type))
                foreach (var t in Flatten(referenced))
                {
                    if (t.Assembly != assembly || group(t.Namespace) is not { } to || to == from) continue;
                    if (!edges.TryGetValue((from, to), out var pairs)) edges[(from, to)] = pairs = [];
                    pairs.TryAdd((Name(type), Name(t)), new TypeReference(Name(type), Name(t), via));
                }
        }
        return edges.Select(kv => new NamespaceEdge(kv.Key.Item1, kv.Key.Item2, kv.Value.Values.ToList()))
            .OrderBy(e => e.From, StringComparer.Ordinal).ThenBy(e => e.To, StringComparer.Ordinal).ToList();
    }

    /// <summary>A type and everything inside it: array/pointer/by-ref element types, generic arguments.</summary>
    private static IEnumerable<Type> Flatten(Type? t)
    {
        if (t is null) yield break;
        if (t.HasElementType) { foreach (var e in Flatten(t.GetElementType())) yield return e; yield break; }
        if (t.IsGenericParameter) yield break;
        yield return t.IsGenericType ? t.GetGenericTypeDefinition() : t;
        if (t.IsGenericType)
            foreach (var a in t.GetGenericArguments())
                foreach (var e in Flatten(a)) yield return e;
    }

    private static string Name(Type t)
    {
        var outer = t;
        var parts = new List<string> { t.Name };
        while (outer.DeclaringType is { } d) { parts.Insert(0, d.Name); outer = d; }
        return $"{outer.Namespace}.{string.Join("+", parts)}";
    }

    private static IEnumerable<(Type, string)> References(Type type)
    {
        if (type.BaseType is { } b) yield return (b, "base type");
        foreach (var i in type.GetInterfaces()) yield return (i, "interface");
        foreach (var r in Attributes(type.CustomAttributes)) yield return (r, "attribute");
        if (type.IsGenericTypeDefinition)
            foreach (var p in type.GetGenericArguments())
                foreach (var c in p.GetGenericParameterConstraints()) yield return (c, "generic constraint");
        foreach (var f in type.GetFields(All))
        {
            yield return (f.FieldType, $"field {f.Name}");
            foreach (var r in Attributes(f.CustomAttributes)) yield return (r, $"attribute of field {f.Name}");
        }
        foreach (var p in type.GetProperties(All))
        {
            yield return (p.PropertyType, $"property {p.Name}");
            foreach (var r in Attributes(p.CustomAttributes)) yield return (r, $"attribute of property {p.Name}");
        }
        foreach (var e in type.GetEvents(All))
            if (e.EventHandlerType is { } h) yield return (h, $"event {e.Name}");
        foreach (var m in type.GetMethods(All).Cast<MethodBase>().Concat(type.GetConstructors(All)))
            foreach (var r in MethodReferences(m)) yield return r;
    }

    private static IEnumerable<Type> Attributes(IEnumerable<CustomAttributeData> attributes)
    {
        foreach (var a in attributes)
        {
            yield return a.AttributeType;
            foreach (var arg in a.ConstructorArguments.Concat(a.NamedArguments.Select(n => n.TypedValue)))
            {
                yield return arg.ArgumentType;
                if (arg.Value is Type t) yield return t;
            }
        }
    }

    private static IEnumerable<(Type, string)> MethodReferences(MethodBase m)
    {
        string where = $"{m.Name}";
        if (m is MethodInfo mi)
        {
            yield return (mi.ReturnType, $"return type of {where}");
            if (mi.IsGenericMethodDefinition)
                foreach (var p in mi.GetGenericArguments())
                    foreach (var c in p.GetGenericParameterConstraints()) yield return (c, $"generic constraint of {where}");
        }
        foreach (var p in m.GetParameters()) yield return (p.ParameterType, $"parameter {p.Name} of {where}");
        foreach (var r in Attributes(m.CustomAttributes)) yield return (r, $"attribute of {where}");
        MethodBody? body;
        try { body = m.GetMethodBody(); }
        catch { body = null; }
        if (body is null) yield break;
        foreach (var l in body.LocalVariables) yield return (l.LocalType, $"local of {where}");
        var il = body.GetILAsByteArray();
        if (il is null) yield break;
        foreach (var t in IlReferences(m, il)) yield return (t, $"IL of {where}");
    }

    /// <summary>The types named by the token operands of a method body's IL.</summary>
    public static IEnumerable<Type> IlReferences(MethodBase method, byte[] il)
    {
        var module = method.Module;
        Type[]? typeArgs = method.DeclaringType is { IsGenericType: true } d ? d.GetGenericArguments() : null;
        Type[]? methodArgs = method is MethodInfo { IsGenericMethod: true } mi ? mi.GetGenericArguments() : null;
        int pos = 0;
        while (pos < il.Length)
        {
            OpCode op;
            byte first = il[pos++];
            if (first == 0xFE)
            {
                if (pos >= il.Length || !TwoByte.TryGetValue(il[pos++], out op)) yield break;
            }
            else if (!OneByte.TryGetValue(first, out op)) yield break;
            int token = 0;
            bool hasToken = op.OperandType is OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineType or OperandType.InlineTok;
            if (hasToken) token = BitConverter.ToInt32(il, pos);
            pos += op.OperandType switch
            {
                OperandType.InlineNone => 0,
                OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar => 1,
                OperandType.InlineVar => 2,
                OperandType.InlineI8 or OperandType.InlineR => 8,
                OperandType.InlineSwitch => 4 + 4 * BitConverter.ToInt32(il, pos),
                _ => 4,
            };
            if (!hasToken) continue;
            var found = new List<Type>();
            try
            {
                switch (op.OperandType)
                {
                    case OperandType.InlineType:
                        found.Add(module.ResolveType(token, typeArgs, methodArgs));
                        break;
                    case OperandType.InlineField:
                        var f = module.ResolveField(token, typeArgs, methodArgs)!;
                        found.Add(f.DeclaringType!);
                        found.Add(f.FieldType);
                        break;
                    case OperandType.InlineMethod:
                        found.AddRange(Signature(module.ResolveMethod(token, typeArgs, methodArgs)!));
                        break;
                    case OperandType.InlineTok:
                        switch (module.ResolveMember(token, typeArgs, methodArgs))
                        {
                            case Type t: found.Add(t); break;
                            case FieldInfo fi: found.Add(fi.DeclaringType!); found.Add(fi.FieldType); break;
                            case MethodBase mb: found.AddRange(Signature(mb)); break;
                        }
                        break;
                }
            }
            catch (Exception e) when (e is ArgumentException or BadImageFormatException or TypeLoadException or MissingMemberException or FileNotFoundException)
            {
                // A token of an open generic context that cannot be resolved here: skip it.
            }
            foreach (var t in found) if (t is not null) yield return t;
        }
    }

    private static IEnumerable<Type> Signature(MethodBase m)
    {
        if (m.DeclaringType is { } d) yield return d;
        if (m is MethodInfo mi)
        {
            yield return mi.ReturnType;
            if (mi.IsGenericMethod) foreach (var a in mi.GetGenericArguments()) yield return a;
        }
        foreach (var p in m.GetParameters()) yield return p.ParameterType;
    }

    /// <summary>The cycles of a directed graph: its strongly connected components of more than one node (Tarjan).</summary>
    public static IReadOnlyList<IReadOnlyList<string>> Cycles(IEnumerable<(string From, string To)> edges)
    {
        var adjacency = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var (from, to) in edges)
        {
            if (!adjacency.TryGetValue(from, out var list)) adjacency[from] = list = [];
            list.Add(to);
            if (!adjacency.ContainsKey(to)) adjacency[to] = [];
        }
        var index = new Dictionary<string, int>();
        var low = new Dictionary<string, int>();
        var stack = new Stack<string>();
        var onStack = new HashSet<string>();
        var result = new List<IReadOnlyList<string>>();
        int counter = 0;

        void Visit(string v)
        {
            index[v] = low[v] = counter++;
            stack.Push(v);
            onStack.Add(v);
            foreach (var w in adjacency[v])
            {
                if (!index.ContainsKey(w)) { Visit(w); low[v] = Math.Min(low[v], low[w]); }
                else if (onStack.Contains(w)) low[v] = Math.Min(low[v], index[w]);
            }
            if (low[v] != index[v]) return;
            var component = new List<string>();
            string x;
            do { x = stack.Pop(); onStack.Remove(x); component.Add(x); } while (x != v);
            if (component.Count > 1 || adjacency[v].Contains(v)) result.Add(component.Order(StringComparer.Ordinal).ToList());
        }

        foreach (var v in adjacency.Keys.Order(StringComparer.Ordinal).ToList())
            if (!index.ContainsKey(v)) Visit(v);
        return result;
    }

    /// <summary>Edges that break the layering: the target's rank is not strictly lower than the source's, or a node has no rank.</summary>
    public static IReadOnlyList<(string From, string To, string Why)> RankViolations(IEnumerable<(string From, string To)> edges, IReadOnlyDictionary<string, int> rank)
    {
        var bad = new List<(string, string, string)>();
        foreach (var (from, to) in edges)
        {
            if (!rank.TryGetValue(from, out int rf)) bad.Add((from, to, $"'{from}' has no rank"));
            else if (!rank.TryGetValue(to, out int rt)) bad.Add((from, to, $"'{to}' has no rank"));
            else if (rt >= rf) bad.Add((from, to, rt == rf ? $"same rank {rf}" : $"rank {rf} uses rank {rt}"));
        }
        return bad;
    }
}
