package hugemem

import "golang.org/x/sys/unix"

// adviseHuge marks memory for transparent huge pages (MADV_HUGEPAGE). Go's runtime
// leaves its heap to the system's default, which is 4 KiB pages where transparent
// huge pages are "madvise" only (Debian's and many distributions' setting): loading a
// million operations then faults in a gigabyte of records 4 KiB at a time, a quarter
// of a million faults and as many TLB misses on every pass over them. Advised, the
// two record slices fault in 2 MiB at a time: BenchmarkCheckRecordedRun went from
// 3.8–4.2 s to 2.6–2.7 s on two cores. An error (a kernel without it) changes nothing
// but the speed, so it is ignored.
func adviseHuge(b []byte) { _ = unix.Madvise(b, unix.MADV_HUGEPAGE) }
