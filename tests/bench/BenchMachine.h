#pragma once

// What every benchmark prints about where it ran: the CPU's model name and the process's peak
// resident memory.

#include <fstream>
#include <string>
#include <sys/resource.h>

inline std::string cpuModel()
{
    std::ifstream cpuinfo("/proc/cpuinfo");
    std::string line;
    while (std::getline(cpuinfo, line))
        if (line.rfind("model name", 0) == 0)
            return line.substr(line.find(':') + 2);
    return "unknown CPU";
}

// The peak resident set size of this process so far, in MB.
inline double peakRssMb()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024.0;
}
