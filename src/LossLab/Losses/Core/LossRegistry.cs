using System.Collections.Concurrent;
using System.Reflection;

namespace LossLab.Losses.Core;

/// <summary>Implemented by every catalog loss class: the static descriptor that registers it.</summary>
public interface ILossDefinition
{
    static abstract LossDescriptor Entry { get; }
}

/// <summary>
/// Name → loss lookup. The built-in catalog is found once by reflection over <see cref="ILossDefinition"/>;
/// users add their own losses with <see cref="Register"/>. Lookup is case-insensitive and thread-safe.
/// </summary>
public sealed class LossRegistry
{
    private readonly ConcurrentDictionary<string, LossDescriptor> _byName = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<LossDescriptor> _entries = [];
    private readonly Lock _gate = new();

    /// <summary>Names starting with this are loss expressions (<c>expr:mean((input - target)^2)</c>).</summary>
    public const string ExpressionPrefix = "expr:";

    /// <summary>The process-wide registry with the built-in catalog.</summary>
    public static LossRegistry Default { get; } = CreateBuiltIn();

    /// <summary>Every registered loss in registration order (built-ins sorted by family, then name).</summary>
    public IReadOnlyList<LossDescriptor> Entries
    {
        get
        {
            lock (_gate) return _entries.ToArray();
        }
    }

    /// <summary>A registry holding the built-in catalog.</summary>
    public static LossRegistry CreateBuiltIn()
    {
        var registry = new LossRegistry();
        var descriptors = typeof(LossRegistry).Assembly.GetTypes()
            .Where(t => !t.IsAbstract && typeof(ILossDefinition).IsAssignableFrom(t))
            .Select(t => (LossDescriptor)t.GetProperty(nameof(ILossDefinition.Entry), BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!)
            .OrderBy(d => d.Family).ThenBy(d => d.Name, StringComparer.Ordinal);
        foreach (LossDescriptor d in descriptors) registry.Register(d);
        return registry;
    }

    /// <summary>Adds a loss under its name and aliases; a name already taken by another loss is an error.</summary>
    public void Register(LossDescriptor descriptor)
    {
        ArgumentNullException.ThrowIfNull(descriptor);
        lock (_gate)
        {
            foreach (string name in descriptor.AllNames)
            {
                if (_byName.TryGetValue(name, out LossDescriptor? existing) && !ReferenceEquals(existing, descriptor))
                {
                    throw new ArgumentException($"the loss name '{name}' of {descriptor.Name} is already used by {existing.Name}", nameof(descriptor));
                }
            }
            foreach (string name in descriptor.AllNames) _byName[name] = descriptor;
            _entries.Add(descriptor);
        }
    }

    public bool TryGet(string name, out LossDescriptor descriptor)
    {
        bool found = _byName.TryGetValue(name, out LossDescriptor? d);
        descriptor = d!;
        return found;
    }

    /// <summary>The descriptor for a name or alias; an unknown name is <see cref="LossErrorCode.UnknownLoss"/> with close names suggested.</summary>
    public LossDescriptor Get(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.StartsWith(ExpressionPrefix, StringComparison.Ordinal)) return new Custom.ExpressionLoss(name[ExpressionPrefix.Length..], this).Descriptor;
        if (TryGet(name, out LossDescriptor d)) return d;
        List<string> close = Suggestions(name);
        string hint = close.Count > 0 ? $"; did you mean {string.Join(", ", close)}?" : "; run `losslab losses` for the catalog";
        throw new LossArgumentException(LossErrorCode.UnknownLoss, $"unknown loss '{name}'{hint}");
    }

    /// <summary>
    /// Up to five losses a mistyped or shortened name may mean, one name each (the closest of its names): first those
    /// whose name contains the query (begins with it, for two letters) or is contained in it once case, '_' and '.' are
    /// ignored ("bce_with_logits" finds BCEWithLogitsLoss, "focal" the focal losses, "kl" the KL divergences), closest
    /// in length first; then those within a few edits (typos; one edit for names of up to four letters).
    /// </summary>
    internal List<string> Suggestions(string name)
    {
        string q = Normalize(name), lower = name.ToLowerInvariant();
        int maxEdits = q.Length <= 4 ? 1 : Math.Max(2, q.Length / 3);
        var scored = new List<(LossDescriptor D, string Name, int Rank, int Score, int Style)>();
        foreach (var (key, d) in _byName)
        {
            string k = Normalize(key);
            // Among a loss's names that match equally, the one spelled most like the query (snake_case or PascalCase).
            int style = EditDistance(key.ToLowerInvariant(), lower);
            bool contains = q.Length >= 3 ? k.Contains(q, StringComparison.Ordinal) : q.Length == 2 && k.StartsWith(q, StringComparison.Ordinal);
            if (contains || (k.Length >= 3 && q.Contains(k, StringComparison.Ordinal)))
                scored.Add((d, key, 0, Math.Abs(k.Length - q.Length), style));
            else if (EditDistance(k, q) is int edits && edits <= maxEdits)
                scored.Add((d, key, 1, edits, style));
        }
        return [.. scored
            .OrderBy(c => c.Rank).ThenBy(c => c.Score).ThenBy(c => c.Style).ThenBy(c => c.Name, StringComparer.Ordinal)
            .DistinctBy(c => c.D)
            .Take(5)
            .Select(c => c.Name)];
    }

    private static string Normalize(string name) => name.Replace("_", "").Replace(".", "").ToLowerInvariant();

    /// <summary>Creates a configured loss by name with raw options.</summary>
    public ILoss Create(string name, IReadOnlyDictionary<string, object?>? options = null) => Get(name).Create(options);

    internal static int EditDistance(string a, string b)
    {
        var prev = new int[b.Length + 1];
        var cur = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) prev[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            cur[0] = i;
            for (int j = 1; j <= b.Length; j++)
            {
                int cost = a[i - 1] == b[j - 1] ? 0 : 1;
                cur[j] = Math.Min(Math.Min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + cost);
            }
            (prev, cur) = (cur, prev);
        }
        return prev[b.Length];
    }
}
