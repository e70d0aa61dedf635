using System.Reflection;
using System.Reflection.Emit;
using LossLab.Losses.Core;

namespace LossLab.Tests;

/// <summary>
/// The dependency rule between the library's namespaces (docs/architecture.md):
/// Numerics ← Autograd ← Losses ← {Nn, Optim} ← Training; Data and Metrics depend only on Numerics.
/// Checked by reflection over signatures and the IL of every method body.
/// </summary>
public sealed class ArchitectureTests
{
    private static readonly Dictionary<string, string[]> Allowed = new()
    {
        ["Numerics"] = ["Numerics"],
        ["Autograd"] = ["Numerics", "Autograd"],
        ["Losses"] = ["Numerics", "Autograd", "Losses"],
        ["Nn"] = ["Numerics", "Autograd", "Losses", "Nn"],
        ["Optim"] = ["Numerics", "Autograd", "Losses", "Optim"],
        ["Training"] = ["Numerics", "Autograd", "Losses", "Nn", "Optim", "Training", "Data", "Metrics"],
        ["Data"] = ["Numerics", "Data"],
        ["Metrics"] = ["Numerics", "Metrics"],
    };

    private static readonly Dictionary<short, OpCode> OpCodesByValue = typeof(OpCodes)
        .GetFields(BindingFlags.Public | BindingFlags.Static)
        .Select(f => (OpCode)f.GetValue(null)!)
        .ToDictionary(o => o.Value);

    [Fact]
    public void Library_namespaces_depend_only_on_the_layers_below()
    {
        Assembly library = typeof(LossRegistry).Assembly;
        var violations = new SortedSet<string>();
        foreach (Type type in library.GetTypes())
        {
            string? layer = Layer(type);
            if (layer is null) continue;
            Assert.True(Allowed.ContainsKey(layer), $"namespace LossLab.{layer} ({type.FullName}) is not in the layer table");
            foreach (Type used in References(type))
            {
                string? usedLayer = Layer(used);
                if (usedLayer is not null && usedLayer != layer && !Allowed[layer].Contains(usedLayer))
                {
                    violations.Add($"{type.FullName} ({layer}) uses {used.FullName} ({usedLayer})");
                }
            }
        }
        Assert.True(violations.Count == 0, string.Join("\n", violations));
    }

    [Fact]
    public void The_library_does_not_reference_the_command_line()
    {
        var referenced = typeof(LossRegistry).Assembly.GetReferencedAssemblies().Select(a => a.Name).ToList();
        Assert.DoesNotContain("LossLab.Cli", referenced);
        Assert.DoesNotContain("System.CommandLine", referenced);
    }

    [Fact]
    public void The_checker_sees_references_inside_method_bodies()
    {
        // A method that only *calls* into Losses from a Numerics-like probe must be seen.
        var seen = References(typeof(Probe)).ToList();
        Assert.Contains(typeof(LossRegistry), seen);
    }

    private sealed class Probe
    {
        public static int Count() => LossRegistry.Default.Entries.Count;
    }

    private static string? Layer(Type t)
    {
        string? ns = (t.IsNested ? OuterMost(t) : t).Namespace;
        if (ns is null || !ns.StartsWith("LossLab.", StringComparison.Ordinal)) return null;
        string rest = ns["LossLab.".Length..];
        int dot = rest.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? rest : rest[..dot];
    }

    private static Type OuterMost(Type t)
    {
        while (t.DeclaringType is not null) t = t.DeclaringType;
        return t;
    }

    private static IEnumerable<Type> References(Type type)
    {
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || !found.Add(t)) return;
            if (t.HasElementType) Add(t.GetElementType());
            if (t.IsGenericType) foreach (Type a in t.GetGenericArguments()) Add(a);
        }
        Add(type.BaseType);
        foreach (Type i in type.GetInterfaces()) Add(i);
        foreach (FieldInfo f in type.GetFields(all)) Add(f.FieldType);
        foreach (PropertyInfo p in type.GetProperties(all)) Add(p.PropertyType);
        foreach (MethodBase m in type.GetMethods(all).Cast<MethodBase>().Concat(type.GetConstructors(all)))
        {
            if (m is MethodInfo mi) Add(mi.ReturnType);
            foreach (ParameterInfo p in m.GetParameters()) Add(p.ParameterType);
            MethodBody? body = m.GetMethodBody();
            if (body is null) continue;
            foreach (LocalVariableInfo l in body.LocalVariables) Add(l.LocalType);
            foreach (Type t in TypesInIl(m, body.GetILAsByteArray() ?? [])) Add(t);
        }
        return found;
    }

    /// <summary>Decodes IL and resolves every type, method and field token to the type it names.</summary>
    private static IEnumerable<Type> TypesInIl(MethodBase method, byte[] il)
    {
        Type[] typeArgs = method.DeclaringType?.IsGenericType == true ? method.DeclaringType.GetGenericArguments() : [];
        Type[] methodArgs = method.IsGenericMethod ? method.GetGenericArguments() : [];
        int pos = 0;
        while (pos < il.Length)
        {
            short value = il[pos] == 0xFE ? (short)(0xFE00 | il[pos + 1]) : il[pos];
            pos += il[pos] == 0xFE ? 2 : 1;
            OpCode op = OpCodesByValue[value];
            switch (op.OperandType)
            {
                case OperandType.InlineNone: break;
                case OperandType.ShortInlineBrTarget or OperandType.ShortInlineI or OperandType.ShortInlineVar: pos += 1; break;
                case OperandType.InlineVar: pos += 2; break;
                case OperandType.InlineI8 or OperandType.InlineR: pos += 8; break;
                case OperandType.InlineSwitch: pos += 4 + 4 * BitConverter.ToInt32(il, pos); break;
                case OperandType.InlineField or OperandType.InlineMethod or OperandType.InlineTok or OperandType.InlineType:
                    int token = BitConverter.ToInt32(il, pos);
                    pos += 4;
                    Type? resolved = null;
                    try
                    {
                        MemberInfo? member = method.Module.ResolveMember(token, typeArgs, methodArgs);
                        resolved = member as Type ?? member?.DeclaringType;
                    }
                    catch (ArgumentException) { }
                    if (resolved is not null) yield return resolved;
                    break;
                default: pos += 4; break;
            }
        }
    }
}
