using LossLab.Training;

namespace LossLab.Tests.TestKit;

/// <summary>Reports each epoch on the training thread (System.Progress would post to the thread pool), e.g. to cancel a run at epoch k.</summary>
internal sealed class EpochProgress(Action<EpochRecord> report) : IProgress<EpochRecord>
{
    public void Report(EpochRecord value) => report(value);
}
