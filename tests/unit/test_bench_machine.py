"""The benchmark names the processor it ran on: the same code runs at different speeds on
different 2-core machines, so a figure without its machine cannot be compared."""

from pipelines.bench_stats import cpu_name
from pipelines.bench_scale_report import document

XEON = "processor\t: 0\nmodel name\t: Intel(R) Xeon(R) Platinum\nflags\t\t: fpu sse2 avx2 avx512f\n"
OLDER = "processor\t: 0\nmodel name\t: AMD EPYC\nflags\t\t: fpu sse2 avx avx2 fma\n"


def test_cpu_name_reads_model_and_widest_vector_extension():
    assert cpu_name(XEON) == "Intel(R) Xeon(R) Platinum, AVX-512"
    assert cpu_name(OLDER) == "AMD EPYC, AVX2"
    assert cpu_name("flags\t: sse2\n") == "unknown, no AVX2"


def test_scale_document_states_the_machine():
    row = {"chunks": 1000, "engine": "edge", "retrieve_p50_ms": 7.0, "retrieve_p95_ms": 9.0,
           "answer_p50_ms": 20.0, "answer_p95_ms": 30.0, "index_search_p50_ms": 2.0,
           "index_search_p95_ms": 3.0, "build_s": 0.3, "rss_mb": 1400.0, "disk_mb": 20.0}
    at_start = {"cores": 2, "cpu": "AMD EPYC, AVX-512", "load_avg_1m_at_start": 0.5,
                "date": "2026-12-06 21:00 UTC"}
    text = document([row], "python -m pipelines bench --scale 1000", 60, at_start)
    assert "Machine: AMD EPYC, AVX-512, 2 cores, load average at start 0.5" in text
    assert "| 1,000 | edge | 7.0 ms / 9.0 ms" in text
