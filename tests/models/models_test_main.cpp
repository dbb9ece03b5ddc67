// Runs the models/ tests registered in this executable (see ModelTest.h).
#include "ModelTest.h"

int main(int argc, char **argv)
{
    return emolens::modeltest::runAll(argc, argv);
}
