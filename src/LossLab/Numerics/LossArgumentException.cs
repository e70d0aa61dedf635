namespace LossLab.Numerics;

/// <summary>What kind of bad request a <see cref="LossArgumentException"/> reports (the protocol's error codes).</summary>
public enum LossErrorCode
{
    /// <summary>No registered loss has the name or alias.</summary>
    UnknownLoss,
    /// <summary>The loss has no option of that name, or does not support that option value.</summary>
    UnsupportedOption,
    /// <summary>A tensor has the wrong shape or rank, or two shapes do not agree.</summary>
    InvalidShape,
    /// <summary>A value is outside its domain: a class index out of range, a probability outside [0, 1], a wrong option type.</summary>
    InvalidValue,
    /// <summary>The request could not be parsed.</summary>
    InvalidJson,
    /// <summary>A custom-loss expression could not be parsed or evaluated.</summary>
    InvalidExpression,
}

/// <summary>
/// A bad argument to a loss: the message names the input or option, the offending shape, index or value, and
/// what was expected. <see cref="Code"/> is machine-readable (and becomes the protocol's error code).
/// </summary>
public sealed class LossArgumentException : ArgumentException
{
    public LossArgumentException(LossErrorCode code, string message, string? paramName = null)
        : base(message, paramName)
    {
        Code = code;
    }

    public LossArgumentException()
        : this(LossErrorCode.InvalidValue, "invalid loss argument") { }

    public LossArgumentException(string message)
        : this(LossErrorCode.InvalidValue, message) { }

    public LossArgumentException(string message, Exception innerException)
        : base(message, innerException)
    {
        Code = LossErrorCode.InvalidValue;
    }

    public LossErrorCode Code { get; }

    /// <summary>The snake_case protocol spelling of <see cref="Code"/> (<c>invalid_shape</c>...).</summary>
    public string CodeName => CodeToName(Code);

    /// <summary>Overrides the base message so the parameter name is not appended: our messages already name it.</summary>
    public override string Message => base.Message.Split(" (Parameter '")[0];

    public static string CodeToName(LossErrorCode code) => code switch
    {
        LossErrorCode.UnknownLoss => "unknown_loss",
        LossErrorCode.UnsupportedOption => "unsupported_option",
        LossErrorCode.InvalidShape => "invalid_shape",
        LossErrorCode.InvalidValue => "invalid_value",
        LossErrorCode.InvalidJson => "invalid_json",
        LossErrorCode.InvalidExpression => "invalid_expression",
        _ => "invalid_value",
    };

    internal static LossArgumentException Shape(string message) => new(LossErrorCode.InvalidShape, message);

    internal static LossArgumentException Value(string message) => new(LossErrorCode.InvalidValue, message);
}
